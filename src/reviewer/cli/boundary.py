"""The error boundary: the one place that turns errors into exit codes and one-line messages."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from reviewer.errors import ExitCode, ReviewerError


def _print_error(message: str, hint: str | None) -> None:
    from reviewer.security import neutralise_terminal

    sys.stderr.write(f"reviewer: error: {neutralise_terminal(message)}\n")
    if hint:
        sys.stderr.write(f"hint: {neutralise_terminal(hint)}\n")


def _debug_lines() -> None:
    """--debug's diagnostics (each dropped finding and why, an invalid answer, the cache's
    decisions): the package's log records on stderr, one `debug:` line each. Whoever logs
    neutralises untrusted text first."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("debug: %(message)s"))
    root = logging.getLogger("reviewer")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)


@contextmanager
def error_handler(debug: bool) -> Iterator[None]:
    """The one place that turns errors into exit codes. A ReviewerError is a one-line message
    (and hint); anything else is a bug: one line plus a request to rerun with --debug."""
    if debug:
        _debug_lines()
    try:
        yield
    except ReviewerError as e:
        if debug:
            import traceback

            traceback.print_exc()
        _print_error(e.message, e.hint)
        raise typer.Exit(int(e.exit_code)) from None
    except KeyboardInterrupt as e:
        # SIGINT or SIGTERM (reviewer.review.interrupt): 128 + the signal number, 130 or 143.
        from reviewer.review.interrupt import Interrupted

        if isinstance(e, Interrupted):
            sys.stderr.write(f"reviewer: interrupted by {e}\n")
            raise typer.Exit(e.exit_code) from None
        sys.stderr.write("reviewer: interrupted\n")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # noqa: BLE001 - the last line of defence against a traceback
        if debug:
            raise
        _print_error(
            f"internal error: {type(e).__name__}: {e}",
            "rerun with --debug for a traceback and report it",
        )
        raise typer.Exit(int(ExitCode.USAGE)) from None
