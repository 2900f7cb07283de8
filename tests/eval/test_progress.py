"""`reviewer eval`'s progress on stderr: a bar of cases and time left for a person at a
terminal, one plain line per case in CI or a log."""

from __future__ import annotations

import io

import pytest

from reviewer.eval.progress import EvalProgress


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_of_cases_and_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    out = Tty()
    with EvalProgress(3, out) as progress:
        progress.starting("py-sql-injection")
        progress.finished("py-sql-injection", 1)
        progress.starting("go-clean-rename")
    shown = out.getvalue()
    assert "evaluating" in shown and "1/3" in shown and "cases" in shown
    assert "-:--:--" in shown or "0:00:0" in shown  # the time-left column
    assert "reviewer: eval: case" not in shown


def test_ci_gets_one_plain_line_per_case_with_time_left_until_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CI", "true")
    out = Tty()
    with EvalProgress(2, out) as progress:
        progress.finished("py-sql-injection", 1)
        progress.finished("go-\x1b[2Jclean", 0)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("reviewer: eval: case 1/2 py-sql-injection: 1 finding; about ")
    assert lines[0].endswith(" s left")
    # A case id from a site's corpus cannot drive the terminal.
    assert lines[1] == "reviewer: eval: case 2/2 go-\\x1b[2Jclean: 0 findings"
