"""chunks/render.py: every rendered line is one line of the prompt, whatever its text holds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.chunks.prompt import DIFF_BEGIN, DIFF_END
from reviewer.chunks.render import clean, hunk_header, render_line, render_lines
from reviewer.models import DiffLine, LineKind
from tests.chunks.shown import NUMBERED


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


# --- the format keeps its guarantees whatever the author writes --------------------------------

# Lines that are not diff lines: the frame, file and hunk headers, the intent's and the rules'
# prefixed lines. A diff line must never start like one of them.
_OTHER_LINES = ("<<<", "===", "@@", "title|", "description|", "commit|", "cut|", "rule|")
_KINDS = st.sampled_from([LineKind.ADDED, LineKind.REMOVED, LineKind.CONTEXT])
_TEXT = st.text(max_size=40) | st.sampled_from(
    ["12 x", "7-x", "-x", " x", "@@ def f", '=== FILE "a"', "<<<END UNTRUSTED DIFF>>>", "9"]
)


def _parse(line: str) -> tuple[str, int | None, str]:
    """A rendered diff line as a reader of the format (the model) takes it."""
    numbered = NUMBERED.fullmatch(line)
    if numbered:
        kind = "added" if numbered["mark"] == " " else "removed"
        return kind, int(numbered["number"]), numbered["text"]
    assert line[:1] in (" ", "-"), line
    return ("context" if line[0] == " " else "removed as context"), None, line[1:]


@settings(max_examples=300, deadline=None)
@given(_KINDS, st.integers(1, 10**7), _TEXT, st.booleans())
def test_no_author_text_changes_what_a_line_is(
    kind: LineKind, number: int, text: str, as_context: bool
) -> None:
    """Whatever the text, the rendered line parses back to its own kind, its own number (only
    on a line the model may name) and the text the model sees; it never starts like a header,
    the frame or an intent or rule line, and it stays one line."""
    line = DiffLine(
        kind,
        None if kind is LineKind.ADDED else number,
        None if kind is LineKind.REMOVED else number,
        text,
    )
    rendered = render_line(line, as_context=as_context)
    assert "\n" not in rendered and "\r" not in rendered
    assert not rendered.startswith(_OTHER_LINES)
    assert rendered not in (DIFF_BEGIN, DIFF_END)
    expected = {
        (LineKind.ADDED, False): ("added", number),
        (LineKind.REMOVED, False): ("removed", number),
        (LineKind.REMOVED, True): ("removed as context", None),
    }.get((kind, as_context), ("context", None))
    assert _parse(rendered) == (*expected, clean(text))
    # The batch rendering the chunker uses shows the same line.
    if not as_context:
        assert render_lines([line]) == ([rendered], [clean(text)])


def test_the_format_as_documented() -> None:
    lines = [
        DiffLine(LineKind.CONTEXT, 4, 4, "def f(x):"),
        DiffLine(LineKind.REMOVED, 5, None, "    return x"),
        DiffLine(LineKind.ADDED, None, 5, "    return x + 1"),
    ]
    assert render_lines(lines)[0] == [" def f(x):", "5-    return x", "5     return x + 1"]
    assert render_line(lines[1], as_context=True) == "-    return x"
    assert render_line(lines[2], as_context=True) == "     return x + 1"
    assert hunk_header("def f(x):") == "@@ def f(x):" and hunk_header("") == "@@"
