"""The fast hunk parser (diff/hunks.py) against the unidiff path it stands in for: on any body,
well-formed or broken, parse_diff gives the same files, or the same error, with and without it."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reviewer.diff import hunks as hunks_module
from reviewer.diff import parse as parse_module
from reviewer.diff.hunks import fast_hunks
from reviewer.diff.parse import parse_diff, split_lines
from reviewer.errors import DiffError
from reviewer.models import DiffLine, FileDiff, LineKind

HEADER = "diff --git a/f.py b/f.py\nindex 1111111..2222222 100644\n--- a/f.py\n+++ b/f.py\n"

# Pieces of hunk bodies: real lines, odd lines, headers with right and wrong counts.
_TEXT = st.sampled_from(["x", "", "a\r", "é", "\\", "@@ -1 +1 @@", "--- a", "+++ b", "\t"])
_PIECE = st.one_of(
    st.builds(lambda m, t: f"{m}{t}\n", st.sampled_from("+- "), _TEXT),
    st.just("\\ No newline at end of file\n"),
    st.just("\\ something else\n"),
    st.sampled_from(["\n", "\r\n", "junk\n", "-- \n"]),
    st.builds(
        lambda a, b, c, d, s: f"@@ -{a},{b} +{c},{d} @@{s}\n",
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 3),
        st.sampled_from(["", " def f():", " x\r"]),
    ),
    st.builds(lambda a, c: f"@@ -{a} +{c} @@\n", st.integers(1, 3), st.integers(1, 3)),
)


@st.composite
def _good_body(draw: st.DrawFn) -> str:
    """A body in the plain shape: each header counts exactly its lines."""
    out: list[str] = []
    old = new = 1
    for _ in range(draw(st.integers(1, 3))):
        marks = draw(st.lists(st.sampled_from("+- "), min_size=1, max_size=6))
        olen = sum(m != "+" for m in marks)
        nlen = sum(m != "-" for m in marks)
        out.append(f"@@ -{old},{olen} +{new},{nlen} @@ sec\n")
        out += [f"{m}{draw(_TEXT)}\n" for m in marks]
        if draw(st.booleans()):
            out.append("\\ No newline at end of file\n")
        old, new = old + olen + 2, new + nlen + 2
    return "".join(out)


def _outcome(text: str) -> tuple[FileDiff, ...] | str:
    try:
        return parse_diff(text)
    except DiffError as e:
        return f"DiffError: {e}"


def _both(text: str) -> tuple[object, object]:
    fast = _outcome(text)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(parse_module, "fast_hunks", lambda body: None)
        slow = _outcome(text)
    return fast, slow


SETTINGS = settings(max_examples=80, deadline=None)


@SETTINGS
@example(["@@ -1,2 +1,1 @@\n", "-a\n", "+b\n", "+c\n"])  # more lines than counted
@example(["@@ -1,2 +1,2 @@\n", " a\n"])  # fewer lines than counted
@example(["@@ -0,0 +0,0 @@\n", "+a\n"])
@given(st.lists(_PIECE, max_size=12))
def test_any_body_parses_as_unidiff_does(pieces: list[str]) -> None:
    body = "".join(pieces)
    fast, slow = _both(HEADER + "@@ -1 +1 @@\n-o\n+n\n" + body)
    assert fast == slow
    for hunk in fast[0].hunks if isinstance(fast, tuple) and fast else ():
        kinds = [ln.kind for ln in hunk.lines]  # the counts match the lines, on either path
        assert hunk.old_len == len(kinds) - kinds.count(LineKind.ADDED)
        assert hunk.new_len == len(kinds) - kinds.count(LineKind.REMOVED)


@SETTINGS
@given(_good_body())
def test_plain_bodies_take_the_fast_path_and_agree(body: str) -> None:
    assert fast_hunks(split_lines(body)) is not None
    fast, slow = _both(HEADER + body)
    assert fast == slow
    assert isinstance(fast, tuple) and fast[0].hunks


def test_line_numbers_text_and_markers() -> None:
    body = "@@ -3,3 +3,3 @@ def f():\r\n a\r\n-b\n+c\n\\ No newline at end of file\n d\n"
    found = fast_hunks(split_lines(body))
    assert found is not None
    (hunk,) = found
    assert (hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len) == (3, 3, 3, 3)
    assert hunk.section == "def f():"
    assert hunk.lines == (
        DiffLine(kind=LineKind.CONTEXT, old_no=3, new_no=3, text="a"),
        DiffLine(kind=LineKind.REMOVED, old_no=4, new_no=None, text="b"),
        DiffLine(kind=LineKind.ADDED, old_no=None, new_no=4, text="c"),
        DiffLine(kind=LineKind.CONTEXT, old_no=5, new_no=5, text="d"),
    )


@pytest.mark.parametrize(
    "body",
    [
        "@@ -1,1 +1,1 @@\n-a\n+b\n+c\n",  # longer than counted
        "@@ -1,2 +1,2 @@\n a\n",  # shorter
        "@@ -1 +1 @@\n-a\n+b\njunk\n",  # text after the last hunk
        "@@ -1 +1 @@\n-a\n\n+b\n",  # a bare empty line
        "@@ -0,0 +0,0 @@\n",
        "@@ bad @@\n",
    ],
)
def test_unusual_bodies_are_left_to_unidiff(body: str) -> None:
    assert fast_hunks(split_lines(body)) is None


def test_module_is_the_one_parse_uses() -> None:
    assert parse_module.fast_hunks is hunks_module.fast_hunks


def _first_hunk_both_ways(lines: list[str]) -> tuple[object, object]:
    """The first hunk of `lines` read whole (_plain_hunk) and line by line (_hunk)."""
    match = hunks_module._HUNK_HEADER.match(lines[0])
    assert match is not None
    marks = "".join(line[:1] for line in lines)
    stop = marks.find("@", 1)
    whole = hunks_module._plain_hunk(lines, marks, 1, len(lines) if stop < 0 else stop, match)
    return whole, hunks_module._hunk(lines, 1, match)


@SETTINGS
@example(["+a\n", "+b\n"])  # more lines than counted: the whole-hunk reader declines
@example(["\\ No newline at end of file\n"])
@given(st.lists(_PIECE, max_size=12))
def test_the_whole_hunk_reader_agrees_with_the_line_reader(pieces: list[str]) -> None:
    body = "@@ -1,2 +1,2 @@\n-o\n+n\n a\n" + "".join(pieces)
    whole, by_line = _first_hunk_both_ways(split_lines(body))
    assert whole is None or whole == by_line


@SETTINGS
@given(_good_body())
def test_plain_hunks_without_markers_or_cr_are_read_whole(body: str) -> None:
    lines = [ln for ln in split_lines(body) if not ln.startswith("\\")]
    lines = [ln.replace("\r", "") for ln in lines]
    whole, by_line = _first_hunk_both_ways(lines)
    assert whole is not None
    assert whole == by_line
