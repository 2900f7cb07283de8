"""chunks/render.py: every rendered line is one line of the prompt, whatever its text holds."""

from __future__ import annotations

import pytest

from reviewer.chunks.render import render_lines
from reviewer.models import DiffLine, LineKind


@pytest.mark.parametrize("text", ["a\nb", "\n", "x\r\ny", "tab\there"])
def test_a_line_never_breaks_into_two_lines_of_the_prompt(text: str) -> None:
    # The fast path scans a hunk's texts joined by newlines, with newline left out of the
    # table; a newline inside one text (the parser never makes one) must still be escaped.
    lines = [
        DiffLine(LineKind.CONTEXT, 1, 1, "before"),
        DiffLine(LineKind.ADDED, None, 2, text),
        DiffLine(LineKind.REMOVED, 2, None, text),
    ]
    rendered, shown = render_lines(lines)
    assert len(rendered) == 3
    assert all("\n" not in r and "\r" not in r for r in rendered)
    assert shown[1] == shown[2] and ("\n" not in shown[1])
    assert rendered[1] == "2 " + shown[1] and rendered[2] == "2-" + shown[2]
