"""Nothing in a findings document can take over what is posted: every field, rendered by
cmark-gfm with GitHub's extensions, gives no tag outside the structural set, no link, image,
mention, team ping or reference, and code stays exactly the code (tests/markdown_html.py)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.formats import render
from reviewer.formats.summary import Placed, Where, summary_body
from reviewer.models import (
    Category,
    ErrorEntry,
    Finding,
    FindingsDocument,
    ModelInfo,
    Severity,
    SkippedFile,
    Status,
    ToolInfo,
)
from reviewer.post.bodies import fallback_review_body, inline_body
from tests.markdown_html import assert_inert, audit

# Single characters Markdown or GitHub act on, and whole tricks known to work on renderers.
_CHARS = list("`[]()<>@#/:\\\n~|!*_-=.&;'\" \taZ09") + ["\r\n", "\u2028", "\u200b", "\U000e0041"]
_TRICKS = [
    "@octocat", "@org/team", "a.@b", "x-@y", "/@z", "owner/repo#12", "owner/repo@abc1234",
    "#12", "GH-12", "gh-7", "www.example.com", "https://e.com", "<img src=x>", "<script>",
    "![i](https://e.com/i.png)", "[l](javascript:alert(1))", "[r]: https://e.com", "<https://e>",
    "```", "~~~", "`" * 256, "\\`", "&#64;x", "&lt;b&gt;", "<!-- x -->", "| a | b |\n|---|---|",
    "\n\n", "    indented", "> quote", "# h", "1. item", "- [ ] task", "mailto:a@b.io",
]
hostile = st.lists(st.one_of(st.sampled_from(_CHARS), st.sampled_from(_TRICKS)), max_size=40).map(
    "".join
)
PROPERTY = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def _finding(title: str, message: str, path: str, suggestion: str | None, fp: str) -> Finding:
    return Finding(
        path=path or "x", line=3, end_line=4, severity=Severity.HIGH, category=Category.BUG,
        title=title, message=message, suggestion=suggestion, fingerprint=fp or "fp",
    )


@st.composite
def documents(draw: st.DrawFn) -> FindingsDocument:
    findings = tuple(
        _finding(draw(hostile), draw(hostile), draw(hostile), draw(st.none() | hostile), draw(hostile))
        for _ in range(draw(st.integers(1, 3)))
    )
    return FindingsDocument(
        status=draw(st.sampled_from(list(Status))),
        tool=ToolInfo(version=draw(hostile)),
        model=ModelInfo(backend=draw(hostile), name=draw(hostile), digest=draw(hostile)),
        base=draw(hostile), head=draw(hostile), findings=findings,
        skipped=(SkippedFile(path=draw(hostile), reason=draw(hostile)),),
        errors=(ErrorEntry(kind=draw(hostile), message=draw(hostile)),),
    )


@PROPERTY
@given(documents())
def test_every_field_of_a_document_renders_inert_in_the_summary(document: FindingsDocument) -> None:
    assert_inert(summary_body(document))
    placed = [Placed(f, w) for f, w in zip(document.findings, Where, strict=False)]
    assert_inert(summary_body(document, placed, updated_at="now", head_note=document.tool.version))


@PROPERTY
@given(documents())
def test_every_field_renders_inert_in_inline_comments_the_review_body_and_markdown(
    document: FindingsDocument,
) -> None:
    for f in document.findings:
        assert_inert(inline_body(f))
    body, _ = fallback_review_body([Placed(f, Where.REVIEW) for f in document.findings])
    assert_inert(body)
    assert_inert(render(document, "markdown"))
    # reviewdog posts rdjson messages as Markdown comments.
    for diagnostic in json.loads(render(document, "rdjson"))["diagnostics"]:
        assert_inert(diagnostic["message"])


@PROPERTY
@given(hostile, st.text(st.sampled_from(list("`~ab <>@#\\|\n")), max_size=60))
def test_a_suggestion_is_posted_exactly_or_not_offered(message: str, code: str) -> None:
    body = inline_body(_finding("t", message, "a.py", code, "fp"))
    a = assert_inert(body)
    exact = code.replace("\r\n", "\n").rstrip("\n") + "\n"
    offered = [t for t, attrs in a.tags if t == "pre" and ("lang", "suggestion") in attrs]
    if offered:
        assert exact in a.codes
    else:
        assert "A suggested change was left out" in body


@PROPERTY
@given(st.text(st.sampled_from(list("`~ab <>@#\\|*_[]()")), max_size=60))
def test_a_fenced_block_in_a_message_keeps_its_code_exactly(code: str) -> None:
    fence = "`" * 3
    if any(line.strip(" ").startswith(fence) for line in code.split("\n")):
        code = code.replace("`", "~")
    if any(line.strip(" ").startswith("~~~") for line in code.split("\n")):
        return
    a = assert_inert(inline_body(_finding("t", f"See:\n{fence}py\n{code}\n{fence}\nend", "a", None, "f")))
    assert code + "\n" in a.codes


# --- the named tricks, each of which produced live HTML or a ping before -----------------------


def test_an_escaped_backtick_does_not_unlock_a_mention() -> None:
    a = assert_inert(inline_body(_finding("\\`@octocat`", "see \\`@octocat` and \\`<img src=x>`", "a", None, "f")))
    assert "@octocat" in "".join(a.codes) or all("octocat" not in c for c in a.codes)


def test_a_code_span_across_a_blank_line_stays_text() -> None:
    assert_inert(inline_body(_finding("t", "`start\n\n<img src=x onerror=alert(1)> @octocat`", "a", None, "f")))


def test_a_run_of_more_than_255_backticks_cannot_close_a_suggestion() -> None:
    code = "x = 1\n" + "`" * 300 + "\n<img src=x onerror=alert(1)> @octocat"
    body = inline_body(_finding("t", "m", "a.py", code, "f"))
    assert_inert(body)
    assert "suggestion" not in body.split("\n\n")[-2] and "A suggested change was left out" in body


def test_mentions_after_dot_dash_and_slash_are_not_live() -> None:
    a = assert_inert(inline_body(_finding("end.@octocat", "a.@b x-@c y/@d (@e) _@f_", "a", None, "f")))
    assert all("@\u200b" in t for t in a.texts if "@" in t)


def test_a_forged_tool_version_cannot_post_html_or_pings() -> None:
    doc = FindingsDocument(
        status=Status.COMPLETE,
        tool=ToolInfo(version="1</sub><img src=x onerror=alert(1)> @octocat [x](https://e.com)"),
        model=ModelInfo(backend="ollama", name="<b>m</b>"),
    )
    a = assert_inert(summary_body(doc))
    assert any("1</sub><img src=x" in t for t in a.texts)  # shown as text


def test_no_cross_repository_or_issue_reference_is_live() -> None:
    text = "fixes owner/repo#12, owner/repo@a5c3785ed8d6, #7, GH-9 and dev@example.com"
    assert_inert(inline_body(_finding(text, text, text, None, "f")))


def test_a_table_cell_cannot_be_split_open_by_a_pipe_in_code() -> None:
    doc = FindingsDocument(
        status=Status.COMPLETE, tool=ToolInfo(version="1"), model=ModelInfo(backend="o", name="m"),
        findings=(_finding("`a|<img src=x>` b", "m", "p\\|<img src=x>`|x", None, "f"),),
    )
    assert_inert(summary_body(doc, [Placed(doc.findings[0], Where.INLINE)]))


def test_hidden_characters_are_shown_as_escapes_in_posted_markdown() -> None:
    hidden = {
        "tag": "\U000e0041", "zero-width": "\u200b", "word joiner": "\u2060", "bom": "\ufeff",
        "soft hyphen": "\u00ad", "variation selector": "\ufe0f", "bidi": "\u202e", "c1": "\x9b",
        "hangul filler": "\u3164", "line separator": "\u2028",
    }
    for name, char in hidden.items():
        f = _finding(f"t{char}t", f"m{char}m `c{char}c`\n```\nk{char}k\n```", "a", f"s{char}s", "f")
        for body in (inline_body(f), summary_body(FindingsDocument(
            status=Status.COMPLETE, tool=ToolInfo(version="1"), model=ModelInfo(backend="o", name="m"),
            findings=(f,),
        ))):
            shown = ("\\U%08x" if ord(char) > 0xFFFF else "\\x%02x" if ord(char) < 0x100 else "\\u%04x") % ord(char)
            a = audit(body)
            assert char not in "".join(a.texts + a.codes), name
            assert shown in "".join(a.texts) and shown in "".join(a.codes), name
            assert "suggestion" not in [v for t, attrs in a.tags for _, v in attrs], name
