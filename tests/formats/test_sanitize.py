"""The sanitiser's limits at cmark-gfm's own limits, rendered by cmark-gfm: code that needs a
longer fence or span than the renderer can count is shown as prose, never as a fence or span
the renderer would misread (which would leave the rest live). Mutation testing found these two
boundaries untested (docs/mutation-testing.md)."""

from __future__ import annotations

from reviewer.formats.sanitize import MAX_FENCE, MAX_SPAN, code_span, fenced, sanitize_markdown
from tests.markdown_html import assert_inert, seen

LIVE_TEXT = "<b>bold</b> @alice"


def test_a_span_that_would_need_more_backticks_than_cmark_counts_is_prose() -> None:
    # A run of MAX_SPAN backticks needs a span of MAX_SPAN + 1: cmark-gfm would not close it,
    # and the text around would render as Markdown.
    text = f"{LIVE_TEXT} {'`' * MAX_SPAN} end"
    md = code_span(text)
    a = assert_inert(md)
    assert a.codes == []
    assert seen(md) == text


def test_the_longest_span_cmark_counts_is_still_code() -> None:
    text = f"{LIVE_TEXT} {'`' * (MAX_SPAN - 1)} end"
    md = code_span(text)
    a = assert_inert(md)
    assert a.codes == [text]


def test_a_block_that_would_need_a_longer_fence_than_cmark_counts_is_prose() -> None:
    # A line of MAX_FENCE backticks inside a ~~~ block needs a fence of MAX_FENCE + 1, which
    # cmark-gfm keeps in a byte: the inner line would close it and the rest would be live.
    inner = "`" * MAX_FENCE
    md = sanitize_markdown(f"~~~\nkeep\n{inner}\n{LIVE_TEXT}\n~~~")
    a = assert_inert(md)
    assert a.codes == []
    assert "bold" in seen(md) and "@alice" in seen(md)
    assert fenced(f"keep\n{inner}\n{LIVE_TEXT}") is None


def test_the_longest_fence_cmark_counts_still_holds_the_code() -> None:
    code = f"keep\n{'`' * (MAX_FENCE - 1)}\n{LIVE_TEXT}"
    block = fenced(code)
    assert block is not None
    a = assert_inert(block)
    assert a.codes == [code + "\n"]
