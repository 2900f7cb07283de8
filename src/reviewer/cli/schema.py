"""`reviewer schema`: a published JSON Schema on stdout, the findings document's by default,
the evaluation report's with `--eval`."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer


def schema(
    eval_report: Annotated[
        bool,
        typer.Option("--eval", help="The evaluation report's (`reviewer eval --output`)."),
    ] = False,
) -> None:
    """Print the JSON Schema of the findings document (`--output`) and exit."""
    if eval_report:
        from reviewer.eval.report import report_schema

        found = report_schema()
    else:
        from reviewer.findings.document import document_schema

        found = document_schema()
    sys.stdout.write(json.dumps(found, indent=2, sort_keys=True) + "\n")
