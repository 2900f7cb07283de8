"""`codequality`: GitLab's Code Quality report (its subset of the Code Climate format), which
GitLab shows in the merge request when the review job saves it as `artifacts: reports:
codequality`. It needs no token: the review job writes it, GitLab reads it.

What GitLab documents (doc/ci/testing/code_quality.md, "Code Quality report format"): one JSON
array; each entry has `description`, `check_name`, `fingerprint` (unique; the merge request
widget compares the merge request's report with the target branch's by it, and shows entries
with one fingerprint as one), `severity` (info, minor, major, critical, blocker),
`location.path` and `location.lines.begin`; no byte order mark.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from reviewer.findings.answer import unique_fingerprints
from reviewer.formats.common import (
    bounded,
    head_span,
    left_out,
    plural,
    removed_lines,
    sorted_findings,
    status_sentence,
)
from reviewer.formats.sanitize import plain_line, safe_marker_value
from reviewer.models import Finding, FindingsDocument, Severity, Status
from reviewer.security import ZWSP, escape_hidden, escape_json_text

# Ours has five levels and so has GitLab's: one to one, in order.
SEVERITIES = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}
# An incomplete review is an entry of its own: without a token the widget is all a GitLab user
# sees, and no entry would read as "nothing found". Nothing reviewed at all (skipped, failed)
# ranks like a high finding; a partial review like a medium one.
STATUS_SEVERITIES = {
    Status.PARTIAL: "major",
    Status.SKIPPED: "critical",
    Status.FAILED: "critical",
}
STATUS_CHECK = "reviewer/review-status"
# Where a status entry points when the document names no file: the file the review job is in.
STATUS_FALLBACK_PATH = ".gitlab-ci.yml"
DESCRIPTION_LIMIT = 500  # characters; the widget shows one line per entry
LISTED_FILES = 10  # unreviewed files a status entry names; the rest are counted
# GitLab shows `description` as text; should a view ever render it as Markdown or HTML, no tag
# (`<` before a letter, `/`, `!`, `?`), link or image (`](`), bare URL (`://`) or `www.`
# address can form: a zero-width space goes after each opener. Invisible as text.
_MARKUP = re.compile(r"<(?=[A-Za-z/!?])|\](?=\()|:(?=//)|(?i:www)(?=\.)")


def description(text: str) -> str:
    """Untrusted text as one plain line: credentials redacted, hidden characters shown as
    escapes, no markup that can form, at most DESCRIPTION_LIMIT characters."""
    line = _MARKUP.sub(lambda m: m.group() + ZWSP, plain_line(text, limit=DESCRIPTION_LIMIT))
    # The spaces added can take it over the limit again; a cut cannot form markup.
    return line if len(line) <= DESCRIPTION_LIMIT else line[: DESCRIPTION_LIMIT - 1] + "…"


def issue(finding: Finding, fingerprint: str) -> dict[str, Any]:
    # GitLab locates an entry in the head file: a LEFT finding points at the head line the
    # removed lines followed and says which old-file lines it means.
    first, last = head_span(finding)
    note = f" ({removed_lines(finding)})" if finding.side == "LEFT" else ""
    text = f"[{finding.severity.value}] {finding.title}{note}: {finding.message}"
    return {
        "description": description(text),
        "check_name": f"reviewer/{finding.category.value}",
        "fingerprint": fingerprint,
        "severity": SEVERITIES[finding.severity],
        # The path stays the path; only a hidden character in it is shown as an escape.
        "location": {"path": escape_hidden(finding.path), "lines": {"begin": first, "end": last}},
    }


def status_issue(document: FindingsDocument) -> dict[str, Any] | None:
    """The entry that says the review is not complete, or None when it is."""
    if document.status is Status.COMPLETE:
        return None
    unreviewed, _ = left_out(document)
    text = f"reviewer: {status_sentence(document)}"
    if unreviewed:
        names = bounded([f"{g.path} ({g.reason})" for g in unreviewed], LISTED_FILES)
        text += f" {plural(len(unreviewed), 'file')} not reviewed: {', '.join(names)}."
    text += " This report lists only what the model reviewed."
    paths = [g.path for g in unreviewed] + [f.path for f in document.coverage.files]
    paths += [f.path for f in document.findings]
    # Stable for one document; the head commit is in it, so the widget, which shows what the
    # target branch's report lacks, always shows it as new.
    basis = json.dumps(["status", document.status.value, document.base, document.head])
    return {
        "description": description(text),
        "check_name": STATUS_CHECK,
        "fingerprint": "reviewer-status-" + hashlib.sha256(basis.encode()).hexdigest()[:32],
        "severity": STATUS_SEVERITIES[document.status],
        "location": {
            "path": escape_hidden(paths[0] if paths else STATUS_FALLBACK_PATH),
            "lines": {"begin": 1, "end": 1},
        },
    }


def report(document: FindingsDocument) -> list[dict[str, Any]]:
    """The report's entries: the status entry first (when the review is not complete), then
    the findings, most severe first, each with a fingerprint no other entry has."""
    findings = [
        f.model_copy(update={"fingerprint": safe_marker_value(f.fingerprint)})
        for f in sorted_findings(document.findings)
    ]
    entries = [issue(f, f.fingerprint) for f in unique_fingerprints(findings)]
    status = status_issue(document)
    return entries if status is None else [status, *entries]


class CodeQualityFormat:
    name = "codequality"

    def render(self, document: FindingsDocument) -> str:
        text = json.dumps(report(document), indent=2, ensure_ascii=False)
        return escape_json_text(text) + "\n"
