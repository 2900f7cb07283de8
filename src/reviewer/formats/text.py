"""`text`: the findings for people reading a terminal or a job log, each with its message and
suggestion (no colour unless a TTY)."""

from __future__ import annotations

import io
import os
import sys
from typing import TYPE_CHECKING

from reviewer.formats.common import (
    bounded,
    clean_document,
    left_out,
    location,
    plural,
    severity_counts,
    sorted_findings,
    status_sentence,
)
from reviewer.formats.sanitize import redact_credentials
from reviewer.models import FindingsDocument
from reviewer.security import defuse_workflow_commands, neutralise_lines, neutralise_terminal

if TYPE_CHECKING:
    from rich.text import Text

FIELD_LIMIT = 500  # characters of one field shown; the document keeps them all
LINES_LIMIT = 2000  # characters of a message or a suggestion shown
_INDENT = "    "


def _bounded(text: str, limit: int) -> str:
    # A forged document's field can be megabytes, and laying out text costs per character.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(text: str) -> str:
    """One field for the terminal, on one line: bounded and neutralised."""
    return neutralise_terminal(_bounded(text, FIELD_LIMIT))


def _shown_lines(text: str) -> str:
    """A message or a suggestion for the terminal: bounded, neutralised, newlines kept, and
    any secret the model echoed redacted."""
    return neutralise_lines(redact_credentials(_bounded(text, LINES_LIMIT)))


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


class TextFormat:
    name = "text"

    def render(self, document: FindingsDocument) -> str:
        # rich is loaded when text is rendered, not whenever a format is looked up: a dry run
        # or a run with another --format starts without it.
        from rich.console import Console
        from rich.text import Text

        # Every string is shown with its control characters as escapes: paths, titles and
        # error messages come from diffs and models, and this goes to a terminal.
        document = clean_document(document, _shown, _shown_lines)
        buffer = io.StringIO()
        colour = _colour()
        console = Console(
            file=buffer,
            width=120,
            force_terminal=colour,
            no_color=not colour,
            color_system="auto" if colour else None,
            highlight=False,
            emoji=False,
        )
        # Text() so that model output is never read as rich markup.
        console.print(Text(status_sentence(document)))
        model = f"Model: {document.model.backend} {document.model.name}"
        console.print(Text(model))
        for block in _finding_blocks(document):
            console.print(block)
        counts = ", ".join(f"{n} {s.value}" for s, n in severity_counts(document.findings).items())
        console.print(Text(f"{plural(len(document.findings), 'finding')} ({counts})"))
        if document.accepted:
            accepted = plural(len(document.accepted), "finding")
            console.print(Text(f"{accepted} accepted in the baseline, not shown"))
        unreviewed, policy = left_out(document)
        if unreviewed:
            console.print(Text(f"Not reviewed ({len(unreviewed)}):"))
            for line in bounded([f"  {g.path} ({g.describe()})" for g in unreviewed]):
                console.print(Text(line))
        if policy:
            console.print(Text(f"Left out by policy ({len(policy)}):"))
            for line in bounded([f"  {g.path} ({g.reason})" for g in policy]):
                console.print(Text(line))
        # Wrapping can start a line anywhere in a long message: no line may read as a
        # workflow command in a job log.
        return defuse_workflow_commands(buffer.getvalue())


def _finding_blocks(document: FindingsDocument) -> list[Text]:
    """Each finding as a person reads it: a heading line (severity, location, category, title),
    then its message and its suggestion, indented (every field already cleaned)."""
    from rich.text import Text

    blocks = []
    for finding in sorted_findings(document.findings):
        lines = [
            f"{finding.severity.value:<8} {location(finding)}  [{finding.category.value}]  "
            f"{finding.title}"
        ]
        lines += [_INDENT + line for line in finding.message.split("\n") if line.strip()]
        if finding.suggestion is not None:
            lines.append(_INDENT + "Suggested replacement:")
            code = finding.suggestion.rstrip("\n")
            lines += [_INDENT * 2 + line for line in code.split("\n")]
        blocks.append(Text("\n".join(lines)))
    return blocks
