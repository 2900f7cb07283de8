"""Markdown rendered the way GitHub renders it (cmark-gfm with GitHub's extensions, raw HTML
allowed so a test sees what it would do) and an audit of the HTML: which tags, which comments,
which text outside code, what code."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (test extra) renders as GitHub does")
from cmarkgfm.cmark import Options  # noqa: E402

EXTENSIONS = ["table", "strikethrough", "autolink", "tagfilter", "tasklist"]
ALLOWED_TAGS = frozenset(
    "p h3 h4 strong em table thead tbody tr th td code pre ul li sub br hr".split()
)
OUR_COMMENTS = re.compile(r"reviewer:summary|reviewer:fingerprints=[A-Za-z0-9._:,-]+")
# What GitHub would turn into a ping, a reference or a link in rendered text.
LIVE = re.compile(
    r"@[A-Za-z0-9]|#[0-9]|(?i:gh-[0-9])|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#[0-9]|://|(?i:www\.)"
)


def render(markdown: str) -> str:
    options = Options.CMARK_OPT_UNSAFE | Options.CMARK_OPT_GITHUB_PRE_LANG
    html: str = cmarkgfm.markdown_to_html_with_extensions(
        markdown, options=options, extensions=EXTENSIONS
    )
    return html


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []
        self.texts: list[str] = []  # text nodes outside code and pre
        self.codes: list[str] = []  # each <code>'s text
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag not in ("br", "hr"):
            self._open.append(tag)
        if tag == "code":
            self.codes.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        if "code" in self._open:
            self.codes[-1] += data
        elif "pre" not in self._open:
            self.texts.append(data)

    def unknown_decl(self, data: str) -> None:
        self.comments.append("decl:" + data)

    def handle_pi(self, data: str) -> None:
        self.comments.append("pi:" + data)


def audit(markdown: str) -> Audit:
    a = Audit()
    a.feed(render(markdown))
    a.close()
    return a


def assert_inert(markdown: str) -> Audit:
    """No tag outside the structural set (no a, img, script, raw HTML), no attribute but a
    code block's language, no comment but our markers, no live mention, reference or link."""
    a = audit(markdown)
    for tag, attrs in a.tags:
        assert tag in ALLOWED_TAGS, (tag, markdown)
        assert all(name == "lang" and tag == "pre" for name, _ in attrs), (tag, attrs)
    for comment in a.comments:
        assert OUR_COMMENTS.fullmatch(comment.strip()), comment
    for text in a.texts:
        assert LIVE.search(text) is None, (text, markdown)
    return a


def seen(markdown: str) -> str:
    """The text a reader sees once GitHub renders `markdown` (code included), with the
    zero-width spaces that break pings and links taken out."""
    text: list[str] = []

    class _All(HTMLParser):
        def handle_data(self, data: str) -> None:
            text.append(data)

    parser = _All(convert_charrefs=True)
    parser.feed(render(markdown))
    parser.close()
    return "".join(text).replace("\u200b", "").strip("\n")
