"""The Markdown only the poster writes: an inline comment's body, the review's body (and its
fallback when the host refuses the inline comments), and the hidden fingerprint trailer by which
a re-run recognises what it posted before. The summary comment is formats/summary.py's."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from reviewer.formats.sanitize import BODY_LIMIT, safe_marker_value, truncate_markdown
from reviewer.formats.summary import (
    Placed,
    detail,
    heading,
    message_markdown,
    pack,
    suggestion_block,
)
from reviewer.models import Finding

_FINGERPRINTS = re.compile(r"<!-- reviewer:fingerprints?=([A-Za-z0-9._:,-]+) -->\s*\Z")


def fingerprint_marker(fingerprints: Iterable[str]) -> str:
    values = ",".join(safe_marker_value(f) for f in fingerprints)
    return f"<!-- reviewer:fingerprints={values} -->"


def marked_fingerprints(body: str | None) -> list[str]:
    """Fingerprints in the trailer we put at the very end of a body (only there: model text
    inside a code block could contain a look-alike)."""
    m = _FINGERPRINTS.search(body or "")
    return m.group(1).split(",") if m else []


def inline_body(finding: Finding, fence: str | None = "suggestion") -> str:
    """An inline comment; `fence` is the host's suggestion fence for the finding's lines (None:
    the host cannot apply one, and the code is shown plain)."""
    parts = [
        heading(finding),
        message_markdown(finding),
        suggestion_block(finding, fence=fence),
    ]
    body = "\n\n".join(p for p in parts if p)
    return (
        truncate_markdown(body, BODY_LIMIT - 200, "comment")
        + "\n\n"
        + fingerprint_marker([finding.fingerprint])
    )


def review_body() -> str:
    """The body of the review that carries the inline comments. It states no count: a host may
    refuse single comments of the review it is written with (GitLab, Gitea), and those move to
    the fallback review or the summary, so a count here would include them."""
    return "reviewer commented on changed lines inline. The summary comment lists every finding."


def fallback_review_body(
    placed: Sequence[Placed], host: str = "the host"
) -> tuple[str, list[Placed]]:
    """The host refused the inline comments: the same findings in full, in the review body."""
    header = (
        f"reviewer could not comment on these lines inline ({host} refused the comments, "
        "probably because the changes moved on), so here they are in full."
    )
    blocks = [detail(p.finding) for p in placed]
    body, fitted = pack(header, blocks, "")
    kept = list(placed[:fitted])
    return body + "\n\n" + fingerprint_marker(p.finding.fingerprint for p in kept), kept
