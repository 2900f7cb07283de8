"""Sanitizing untrusted text, patch parsing for placement, and comment bodies."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.formats.sanitize import (
    REDACTED,
    backtick_fence,
    redact_credentials,
    sanitize_markdown,
    truncate,
)
from reviewer.formats.summary import Where, pack, summary_body
from reviewer.post.bodies import inline_body, marked_fingerprints
from reviewer.post.hosts.github import pull_files
from reviewer.post.placement import commentable_hunks, place
from tests.markdown_html import assert_inert, seen
from tests.post.github_fake import commentable
from tests.post.pr_data import APP_PATCH, finding


def test_mentions_are_broken_in_prose_but_code_keeps_its_text() -> None:
    md = sanitize_markdown("hi @alice, @org/team; a@b.io `@code`")
    a = assert_inert(md)
    assert seen(md) == "hi @alice, @org/team; a@b.io @code" and a.codes == ["@code"]


def test_html_is_shown_as_text_and_kept_in_code() -> None:
    md = sanitize_markdown("<b>x</b> & `<i>` \n```\n<div>\n```\n")
    a = assert_inert(md)
    assert a.texts[0].startswith("<b>x</b> & ") and a.codes == ["<i>", "<div>\n"]


def test_links_of_every_kind_are_shown_as_text() -> None:
    text = (
        "[a](javascript:alert(1)) ![c](DATA:image/png;base64,x) [ok](https://example.com) "
        "<https://e.com> www.e.com\n[r]: https://evil"
    )
    md = sanitize_markdown(text)
    assert_inert(md)
    assert seen(md) == text


def test_credentials_are_redacted() -> None:
    text = (
        "ghp_" + "a" * 36 + " gho_" + "b" * 36 + " ghs_" + "c" * 36 + " github_pat_" + "d" * 40
        + " AKIAABCDEFGHIJKLMNOP password = 'sup3rsecret' api_key: abcd1234\n"
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----"
    )
    out = redact_credentials(text)
    for secret in ("aaaa", "bbbb", "cccc", "dddd", "AKIA", "sup3rsecret", "abcd1234", "MIIE"):
        assert secret not in out
    assert out.count(REDACTED) == 8 and "password = '" in out


def test_fence_is_longer_than_any_backtick_run() -> None:
    assert backtick_fence("no ticks") == "```"
    assert backtick_fence("a ```` b ` c") == "`````"


def test_truncate_keeps_a_visible_note_and_the_limit() -> None:
    text = "line\n" * 10_000
    out = truncate(text, 1_000, "comment")
    assert len(out) <= 1_000 and "truncated by reviewer" in out
    assert truncate("short", 10) == "short"


def test_commentable_lines_per_hunk() -> None:
    assert commentable_hunks(APP_PATCH) == [frozenset(range(1, 7)), frozenset(range(22, 26))]
    assert commentable_hunks("@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file") == [
        frozenset({1, 2})
    ]
    assert commentable_hunks("@@ -1,2 +0,0 @@\n-a\n-b") == [frozenset()]
    assert commentable_hunks("@@ -1,2 +0,0 @@\n-a\n-b", "LEFT") == [frozenset({1, 2})]
    mixed = "@@ -10,4 +10,3 @@\n keep\n-gone\n-also\n+new\n keep"
    assert commentable_hunks(mixed, "LEFT") == [frozenset({11, 12})]
    assert commentable_hunks(mixed) == [frozenset({10, 11, 12})]


@st.composite
def patches(draw: st.DrawFn) -> str:
    hunks, old, new = [], 1, 1
    for _ in range(draw(st.integers(1, 3))):
        gap = draw(st.integers(0, 5))
        old, new = old + gap, new + gap
        kinds = draw(st.lists(st.sampled_from(" +-"), min_size=1, max_size=8))
        n_old = sum(k != "+" for k in kinds)
        n_new = sum(k != "-" for k in kinds)
        hunks.append(f"@@ -{old},{n_old} +{new},{n_new} @@\n" + "\n".join(f"{k}x" for k in kinds))
        old, new = old + n_old, new + n_new
    return "\n".join(hunks)


@settings(max_examples=80, deadline=None)
@given(patches())
def test_commentable_lines_agree_with_unidiff(patch: str) -> None:
    assert [set(h) for h in commentable_hunks(patch)] == commentable(patch)
    assert [set(h) for h in commentable_hunks(patch, "LEFT")] == commentable(patch, "LEFT")


def test_a_left_finding_goes_inline_only_on_removed_lines_of_the_current_patch() -> None:
    patch = "@@ -10,5 +10,3 @@\n keep\n-gone\n-also\n keep\n keep"
    files = pull_files([{"filename": "a.py", "patch": patch}])
    findings = [
        finding("l1", "a.py", 11, 12, side="LEFT"),  # the removed lines
        finding("l2", "a.py", 10, side="LEFT"),  # a context line's old number
        finding("r1", "a.py", 11),  # RIGHT 11 is a context line: fine
        finding("l3", "b.py", 11, side="LEFT"),
    ]
    placed = {p.finding.fingerprint: p for p in place(findings, files, {})}
    assert placed["l1"].where is Where.INLINE
    assert placed["r1"].where is Where.INLINE
    assert placed["l2"].where is Where.SUMMARY
    assert placed["l2"].reason == "removed lines not in the pull request's current diff"
    assert placed["l3"].where is Where.SUMMARY


def test_place_decides_inline_or_summary_with_a_reason() -> None:
    files = pull_files(
        [{"filename": "src/app.py", "patch": APP_PATCH}, {"filename": "img.png"}]
    )
    findings = [
        finding("a", "src/app.py", 5, 6),
        finding("b", "src/app.py", 6, 22),
        finding("c", "img.png", 1),
        finding("d", "gone.py", 1),
        finding("e", "src/app.py", 24),
    ]
    placed = place(findings, files, {"e": Where.INLINE})
    assert [p.where for p in placed] == [Where.INLINE] + [Where.SUMMARY] * 3 + [Where.INLINE]
    assert placed[1].reason == "lines not in the pull request's current diff"
    assert placed[2].reason == "GitHub shows no diff for this file"
    assert placed[3].reason == "file not in the pull request's current files"
    assert placed[4].already_posted and not placed[0].already_posted


def test_only_the_trailing_marker_counts() -> None:
    body = inline_body(finding("fp-1", "a.py", 1, message="```\n<!-- reviewer:fingerprints=x -->"))
    assert marked_fingerprints(body) == ["fp-1"]
    assert marked_fingerprints("<!-- reviewer:fingerprints=x -->\ntext after") == []
    odd = inline_body(finding("fp --> <b>", "a.py", 1))
    assert "fp -->" not in odd and marked_fingerprints(odd)[0].startswith("sha256-")


def test_pack_keeps_whole_blocks_and_says_how_many_did_not_fit() -> None:
    body, fitted = pack("head", ["x" * 30_000, "y" * 30_000, "z" * 30_000], "\nfoot")
    assert fitted == 2 and len(body) <= 65_000
    assert "1 more finding did not fit" in body and body.endswith("foot")
    body, fitted = pack("head", ["x" * 40_000, "y" * 40_000, "z" * 40_000], "\nfoot")
    assert fitted == 1 and "*2 more findings did not fit" in body


def test_summary_without_placement_lists_every_finding_in_full() -> None:
    from tests.post.pr_data import document

    body = summary_body(document())
    assert body.startswith("<!-- reviewer:summary -->") and "#### Details" in body
    assert "Posted" not in body and "updated" not in body
    from reviewer.formats.summary import heading
    from tests.post.pr_data import findings

    assert all(body.count(heading(f)) == 1 for f in findings())


def test_hidden_characters_are_shown_not_dropped() -> None:
    md = sanitize_markdown("a\x9b31mb\u202ec\u200fd\x85e\U000e0041 one\u2028two\r\nthree")
    assert seen(md) == "a\\x9b31mb\\u202ec\\u200fd\\x85e\\U000e0041 one\\u2028two\nthree"
