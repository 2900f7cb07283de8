"""`text`: a rich table for people reading a terminal or a job log (no colour unless a TTY)."""

from __future__ import annotations

import io
import os
import sys

from rich.console import Console
from rich.table import Table
from rich.text import Text

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
from reviewer.models import FindingsDocument
from reviewer.security import defuse_workflow_commands, neutralise_terminal

FIELD_LIMIT = 500  # characters of one field shown in the table; the document keeps them all


def _shown(text: str) -> str:
    """One field for the terminal: bounded (a forged document's field can be megabytes, and
    laying out a table costs per character) and neutralised."""
    cut = text if len(text) <= FIELD_LIMIT else text[: FIELD_LIMIT - 1] + "…"
    return neutralise_terminal(cut)


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


class TextFormat:
    name = "text"

    def render(self, document: FindingsDocument) -> str:
        # Every string is shown with its control characters as escapes: paths, titles and
        # error messages come from diffs and models, and this goes to a terminal.
        document = clean_document(document, _shown)
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
        if document.findings:
            console.print(_table(document))
        counts = ", ".join(f"{n} {s.value}" for s, n in severity_counts(document.findings).items())
        console.print(Text(f"{plural(len(document.findings), 'finding')} ({counts})"))
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


def _table(document: FindingsDocument) -> Table:
    table = Table(show_lines=False)
    for column in ("Severity", "Location", "Category", "Title"):
        table.add_column(column)
    for finding in sorted_findings(document.findings):
        table.add_row(
            Text(finding.severity.value),
            Text(location(finding)),
            Text(finding.category.value),
            Text(finding.title),
        )
    return table
