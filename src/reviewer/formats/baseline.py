"""`baseline`: a baseline file accepting every finding of the document (and those it already
accepted), for the repository's `.reviewer/baseline` (see plan/baseline.py). One fingerprint per
line; the rest of the line is a `#` comment saying what was accepted, made of plain text only,
so a model-written title cannot add a line or a fingerprint."""

from __future__ import annotations

from reviewer.formats.common import location, sorted_findings
from reviewer.formats.sanitize import plain_line
from reviewer.models import FindingsDocument
from reviewer.security import defuse_workflow_commands

HEADER = (
    "# reviewer baseline: accepted findings, by fingerprint; they are not reported again.\n"
    "# Read from the base revision. Written by `reviewer report --format baseline`.\n"
)
COMMENT_LIMIT = 160  # characters of a comment


class BaselineFormat:
    name = "baseline"

    def render(self, document: FindingsDocument) -> str:
        lines = []
        for finding in sorted_findings((*document.findings, *document.accepted)):
            what = f"{finding.severity.value} {location(finding)} {finding.title}"
            comment = plain_line(what, COMMENT_LIMIT)
            lines.append(f"{finding.fingerprint}  # {comment}")
        # Printed to job logs too: no `##[` in a comment may read as a workflow command.
        return defuse_workflow_commands(HEADER + "".join(line + "\n" for line in lines))
