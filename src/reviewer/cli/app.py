"""The typer app: the commands in the order `reviewer --help` lists them, and the console-script
entry point."""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

from reviewer import __version__
from reviewer.cli.doctor import doctor
from reviewer.cli.eval import eval_command
from reviewer.cli.options import HELP_OPTIONS
from reviewer.cli.post import post
from reviewer.cli.report import report
from reviewer.cli.run import run
from reviewer.cli.schema import schema

app = typer.Typer(
    name="reviewer",
    help="A code-review agent for CI that sends your diff only to a local model server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=HELP_OPTIONS,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reviewer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """reviewer: local-model code review for CI."""


app.command("run")(run)
app.command("eval")(eval_command)
app.command("post")(post)
app.command("report")(report)
app.command("schema")(schema)
app.command("doctor")(doctor)


def main() -> NoReturn:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as e:
        raise SystemExit(e.code) from None
    sys.exit(0)
