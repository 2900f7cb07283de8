"""`rdjson` and `rdjsonl`: reviewdog's Diagnostic Format, so reviewdog can post the findings."""

from __future__ import annotations

import json
from typing import Any

from reviewer.formats.common import head_span, removed_lines, sorted_findings
from reviewer.models import Finding, FindingsDocument, Severity
from reviewer.security import escape_json_text

SOURCE = {"name": "reviewer"}
SEVERITIES = {
    Severity.CRITICAL: "ERROR",
    Severity.HIGH: "ERROR",
    Severity.MEDIUM: "WARNING",
    Severity.LOW: "INFO",
    Severity.INFO: "INFO",
}


def _range(finding: Finding) -> dict[str, Any]:
    # No columns: reviewdog then reads the range line-wise and inclusive of the end line.
    # reviewdog has no base side: a LEFT finding points at the nearest head line.
    first, last = head_span(finding)
    return {"start": {"line": first}, "end": {"line": last}}


def diagnostic(finding: Finding) -> dict[str, Any]:
    from reviewer.formats.sanitize import backtick_fence, has_hidden, one_line, sanitize_markdown

    left = finding.side == "LEFT"
    note = f" ({removed_lines(finding)})" if left else ""  # ours: plain words
    # reviewdog posts the message as Markdown in a pull-request comment: it gets the same
    # treatment as our own comments (no tag, link, image, ping or reference can form).
    message = f"\\[{finding.severity.value}\\] {one_line(finding.title)}{note}"
    body = sanitize_markdown(finding.message)
    item: dict[str, Any] = {
        "message": f"{message}\n\n{body}" if body else message,
        "location": {"path": finding.path, "range": _range(finding)},
        "severity": SEVERITIES[finding.severity],
        "source": SOURCE,
        "code": {"value": f"reviewer/{finding.category.value}"},
    }
    # A suggestion replaces the range it names: on the head line a LEFT finding points at, it
    # would replace other code, so it is left to the message's reader (the document has it).
    # reviewdog fences the suggestion itself: offer only code a fence can hold and that has no
    # hidden character, as `reviewer post` does.
    code = finding.suggestion
    if code is not None and not left and backtick_fence(code) is not None and not has_hidden(code):
        text = code if code.endswith("\n") else code + "\n"
        item["suggestions"] = [{"range": _range(finding), "text": text}]
    return item


class RdjsonFormat:
    name = "rdjson"

    def render(self, document: FindingsDocument) -> str:
        result = {
            "source": SOURCE,
            "diagnostics": [diagnostic(f) for f in sorted_findings(document.findings)],
        }
        return escape_json_text(json.dumps(result, indent=2, ensure_ascii=False)) + "\n"


class RdjsonlFormat:
    name = "rdjsonl"

    def render(self, document: FindingsDocument) -> str:
        lines = [
            escape_json_text(json.dumps(diagnostic(f), ensure_ascii=False))
            for f in sorted_findings(document.findings)
        ]
        return "".join(line + "\n" for line in lines)
