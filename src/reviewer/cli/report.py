"""`reviewer report`: a findings document converted to another format."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.boundary import error_handler
from reviewer.cli.options import DebugOption, FindingsOption
from reviewer.errors import UsageError
from reviewer.findings.document import load_document


def report(
    findings: FindingsOption,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="text, json, sarif, rdjson, rdjsonl, markdown, github or codequality.",
        ),
    ] = "text",
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="PATH", help="Write here instead of stdout."),
    ] = None,
    debug: DebugOption = False,
) -> None:
    """Convert a findings document to another format."""
    with error_handler(debug):
        report_command(findings, format, output)


def report_command(findings: Path, format_name: str, output: Path | None) -> None:
    from reviewer.formats import get_format  # loaded by the command that prints, not by every one

    formatter = get_format(format_name)  # an unknown name fails before reading anything
    text = formatter.render(load_document(findings))
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {output}: {e.strerror or e}") from e
