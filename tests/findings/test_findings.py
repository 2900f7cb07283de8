"""Strict parsing of model answers and validation of findings against their chunk. The chunks
are the real chunker's, built from real diffs: validation checks a finding against the line
texts the chunk kept when it rendered them, the very text the model saw."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from reviewer.chunks.chunking import build_chunks
from reviewer.chunks.prompt import MAX_FINDINGS_PER_CHUNK
from reviewer.chunks.render import clean, quote_path
from reviewer.diff.parse import parse_diff, parse_raw
from reviewer.diff.sources import GitRangeSource
from reviewer.errors import InvalidAnswerError
from reviewer.findings.answer import (
    RawAnswer,
    fingerprint,
    merge,
    parse_answer,
    strip_fence,
    validate,
)
from reviewer.models import Category, Chunk, ChunkFile, Finding, Severity
from reviewer.settings.config import DEFAULT_CONTEXT_LINES, FilterMode
from tests.chunks.shown import assert_texts_are_shown, file_lines
from tests.diff.gitrepo_helpers import GitRepo
from tests.model_fakes import answer, finding

# --- strict parsing ------------------------------------------------------------------------


def test_a_valid_answer_parses() -> None:
    (f,) = parse_answer(answer(finding(end_line=3, suggestion="x")))
    assert (f.path, f.line, f.end_line, f.severity, f.suggestion) == (
        "src/app.py",
        2,
        3,
        Severity.HIGH,
        "x",
    )


def test_no_findings_parses() -> None:
    assert parse_answer('  {"findings": []}\n') == ()


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"findings": []}\n```',
        '```\n{"findings": []}\n```',
        '\n  ```JSON\n{"findings": []}\n```  \n',
    ],
)
def test_one_surrounding_fence_is_removed(text: str) -> None:
    assert parse_answer(text) == ()


def test_strip_fence_only_removes_one_fence() -> None:
    assert strip_fence('```\n```\n{"findings": []}\n```\n```') == '```\n{"findings": []}\n```'


def bad(**over: Any) -> str:
    return answer(finding(**over))


def without(key: str) -> str:
    f = finding()
    del f[key]
    return answer(f)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No problems found.",
        "[]",
        "null",
        '{"findings": []} trailing',
        '{"findings": [], "summary": "ok"}',
        '{"results": []}',
        '{"findings": {}}',
        "Here you go: " + answer(),
        bad(line="6"),
        bad(line=6.0),
        bad(line=True),
        bad(line=0),
        bad(end_line="7"),
        bad(end_line=0),
        bad(path="x" * 513),  # MAX_PATH_CHARS + 1
        bad(severity="blocker"),
        bad(severity="HIGH"),
        bad(category="correctness"),
        bad(title=None),
        bad(title=""),
        bad(title="x" * 500),
        bad(message=3),
        bad(suggestion=["a"]),
        bad(path=""),
        without("end_line"),
        without("suggestion"),
        without("severity"),
        without("message"),
        without("title"),
        without("path"),
        answer({**finding(), "confidence": 0.9}),
        '{"findings": [' + json.dumps(finding())[:-5],
    ],
)
def test_anything_but_the_exact_shape_is_an_invalid_answer(text: str) -> None:
    with pytest.raises(InvalidAnswerError) as e:
        parse_answer(text)
    assert e.value.kind == "invalid_answer"
    assert e.value.exit_code == 3


def test_the_smallest_values_are_accepted() -> None:
    raw = finding(path="a", line=1, end_line=1, title="t", message="m", suggestion="")
    (f,) = parse_answer(answer(raw))
    assert (f.path, f.line, f.end_line, f.title, f.message, f.suggestion) == (
        "a", 1, 1, "t", "m", ""
    )


@pytest.mark.parametrize("text", ["No problems found.", "[]", '"{}"', "  null"])
def test_an_answer_that_is_not_an_object_says_so(text: str) -> None:
    with pytest.raises(InvalidAnswerError, match=r"\Athe answer is not a JSON object\Z"):
        parse_answer(text)


def test_an_invalid_answer_names_the_first_problem() -> None:
    with pytest.raises(InvalidAnswerError, match=r"\Ainvalid answer at findings\.0\.line: "):
        parse_answer(answer(finding(line="6")))
    unknown = r"\Ainvalid answer at findings\.0: unknown key `x`\Z"
    with pytest.raises(InvalidAnswerError, match=unknown):
        parse_answer(answer({**finding(), "x": 1}))


def test_a_raw_lone_surrogate_in_the_answer_becomes_a_replacement_character() -> None:
    # A server that decoded broken UTF-8 with surrogateescape: the text cannot be encoded.
    text = json.dumps({"findings": [finding(title="a\ud800b", message="\udcff")]},
                      ensure_ascii=False)
    assert "\ud800" in text
    (f,) = parse_answer(text)
    assert (f.title, f.message) == ("a\ufffdb", "\ufffd")


def test_what_was_parsed_cannot_change_after_the_checks() -> None:
    (f,) = parse_answer(answer(finding()))
    with pytest.raises(ValidationError, match="frozen"):
        f.line = 3  # type: ignore[misc]
    whole = RawAnswer.model_validate_json(answer(finding()))
    with pytest.raises(ValidationError, match="frozen"):
        whole.findings = ()  # type: ignore[misc]
    result = validate(whole.findings, app_chunk())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.dropped = 0  # type: ignore[misc]


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=200))
def test_parser_never_crashes_on_arbitrary_text(text: str) -> None:
    try:
        result = parse_answer(text)
    except InvalidAnswerError:
        return
    assert isinstance(result, tuple)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(finding())), json_values, max_size=8))
def test_a_finding_is_accepted_only_when_every_field_is_right(candidate: dict[str, Any]) -> None:
    text = answer(candidate)
    try:
        (parsed,) = parse_answer(text)
    except InvalidAnswerError:
        return
    # Accepted: then it had exactly the required fields with the right types.
    assert set(candidate) == set(finding())
    assert type(candidate["line"]) is int
    assert parsed.path == candidate["path"]


# --- validation against chunks the real chunker built ---------------------------------------

APP_DIFF = """\
diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,2 +1,5 @@ def div
 def div(a, b):
+    return a / b
+
+password = 'x'
 # end
"""


def chunks_of(
    diff: str, budget: int = 2000, context: int = DEFAULT_CONTEXT_LINES
) -> tuple[Chunk, ...]:
    """The real chunker's chunks of a patch; each keeps exactly the line texts it shows."""
    chunks = build_chunks(parse_diff(diff), budget, context).chunks
    for chunk in chunks:
        assert_texts_are_shown(chunk)
    return chunks


def app_chunk(diff: str = APP_DIFF) -> Chunk:
    (chunk,) = chunks_of(diff)
    return chunk


def checked(chunk: Chunk, *findings: dict[str, Any], mode: FilterMode = FilterMode.ADDED) -> (
    tuple[Finding, ...]
):
    result = validate(parse_answer(answer(*findings)), chunk, mode)
    assert result.dropped == len(findings) - len(result.findings)
    return result.findings


def kept(*findings: dict[str, Any], mode: FilterMode = FilterMode.ADDED) -> list[tuple[int, int]]:
    return [(f.line, f.end_line) for f in checked(app_chunk(), *findings, mode=mode)]


def file_of(chunk: Chunk, path: str) -> ChunkFile:
    (cf,) = [cf for cf in chunk.files if cf.path == path]
    return cf


def test_findings_on_added_lines_are_kept() -> None:
    assert kept(finding(line=2), finding(line=3, end_line=4)) == [(2, 2), (3, 4)]


@pytest.mark.parametrize(
    "over",
    [
        {"path": "src/other.py"},
        {"path": "src/../src/app.py"},
        {"path": "/src/app.py"},
        {"path": "./src/app.py"},
        {"path": "SRC/app.py"},
        {"line": 1},  # context
        {"line": 5},  # context
        {"line": 99},
        {"line": 4, "end_line": 5},  # runs into context
        {"line": 4, "end_line": 3},  # end before start
        {"line": 2, "end_line": 10**9},
    ],
)
def test_findings_outside_the_chunks_added_lines_are_dropped(over: dict[str, Any]) -> None:
    assert kept(finding(**over)) == []


def one_line_patch(header_path: str) -> str:
    return (
        f"diff --git {header_path} {header_path}\n--- {header_path}\n+++ {header_path}\n"
        "@@ -0,0 +1,1 @@\n+x = 1\n"
    )


@pytest.mark.parametrize(
    ("header_path", "path"),
    [
        ("a/../x.py", "../x.py"),
        ("a//abs.py", "/abs.py"),
        ("a/src/../../x.py", "src/../../x.py"),
        ('"a/..\\\\x.py"', "..\\x.py"),  # a backslash is a separator on Windows
        ('"a/src\\\\..\\\\..\\\\x.py"', "src\\..\\..\\x.py"),
        ('"a/x\\000.py"', "x\x00.py"),
    ],
)
def test_a_finding_on_a_file_with_an_unsafe_path_is_dropped(header_path: str, path: str) -> None:
    # A patch file (--patch) can name such a file, and the chunk shows it; no finding may
    # point there, whatever the mode.
    (chunk,) = chunks_of(one_line_patch(header_path) + one_line_patch("a/ok.py"))
    assert {cf.path for cf in chunk.files} == {path, "ok.py"}
    for mode in FilterMode:
        assert checked(chunk, finding(path=path, line=1), mode=mode) == ()
        assert len(checked(chunk, finding(path="ok.py", line=1), mode=mode)) == 1


def test_diff_context_mode_allows_context_lines() -> None:
    assert kept(finding(line=1), finding(line=4, end_line=5), mode=FilterMode.DIFF_CONTEXT) == [
        (1, 1),
        (4, 5),
    ]
    assert kept(finding(line=6), mode=FilterMode.DIFF_CONTEXT) == []
    assert kept(finding(line=1, end_line=6), mode=FilterMode.DIFF_CONTEXT) == []


def test_half_valid_answer_keeps_the_valid_half_and_counts_the_rest() -> None:
    result = validate(
        parse_answer(answer(finding(line=2), finding(line=42), finding(path="made/up.py"))),
        app_chunk(),
    )
    assert [f.line for f in result.findings] == [2]
    assert result.dropped == 2


def test_a_kept_finding_carries_the_models_fields() -> None:
    raw = finding(line=3, end_line=4, severity="low", category="security", title="  a\n  b ",
                  message="  why \n", suggestion="  fixed  ")
    (f,) = checked(app_chunk(), raw)
    assert (f.path, f.line, f.end_line, f.side, f.head_line) == ("src/app.py", 3, 4, "RIGHT", None)
    assert (f.severity, f.category) == (Severity.LOW, Category.SECURITY)
    assert (f.title, f.message, f.suggestion) == ("a b", "why", "  fixed  ")


def test_a_missing_end_line_means_the_one_line() -> None:
    (f,) = checked(app_chunk(), finding(line=4, end_line=None))
    assert (f.line, f.end_line) == (4, 4)


# --- fingerprints: of the texts the chunk showed ----------------------------------------------


def test_the_fingerprint_is_of_the_flagged_lines_as_shown() -> None:
    (f,) = checked(app_chunk(), finding(line=2, end_line=4))
    shown = ["    return a / b", "", "password = 'x'"]
    assert f.fingerprint == fingerprint("src/app.py", Category.BUG, "Division by zero", shown)


def test_fingerprint_survives_an_unrelated_line_shift() -> None:
    shifted = APP_DIFF.replace("@@ -1,2 +1,5 @@", "@@ -11,2 +11,5 @@")
    (a,) = checked(app_chunk(), finding(line=2))
    (b,) = checked(app_chunk(shifted), finding(line=12))
    assert a.line != b.line
    assert a.fingerprint == b.fingerprint


def test_fingerprint_differs_for_other_code_or_category() -> None:
    (base,) = checked(app_chunk(), finding(line=2))
    (other_line,) = checked(app_chunk(), finding(line=4))
    (other_cat,) = checked(app_chunk(), finding(category="security"))
    assert len({base.fingerprint, other_line.fingerprint, other_cat.fingerprint}) == 3


def test_the_same_finding_twice_appears_once_most_severe_kept() -> None:
    low = checked(app_chunk(), finding(severity="low"))
    high = checked(app_chunk(), finding(severity="high"))
    (f,) = merge([*low, *high])
    assert f.severity is Severity.HIGH


def test_identical_code_in_two_places_keeps_both_with_distinct_fingerprints() -> None:
    chunk = app_chunk(APP_DIFF.replace("+\n", "+    return a / b\n"))
    found = checked(chunk, finding(line=2), finding(line=3))
    assert found[0].fingerprint == found[1].fingerprint  # the same text flagged twice
    merged = merge(list(found))
    assert [f.line for f in merged] == [2, 3]
    # The first keeps its id; the second gets the occurrence number mixed in, stably.
    assert merged[0].fingerprint == found[0].fingerprint
    again = hashlib.sha256(f"{found[0].fingerprint}#1".encode()).hexdigest()[:32]
    assert merged[1].fingerprint == again


def test_of_two_equally_severe_copies_the_first_is_kept() -> None:
    (a,) = checked(app_chunk(), finding(message="first"))
    (b,) = checked(app_chunk(), finding(message="second"))
    assert merge([a, b]) == (a,)
    assert merge([b, a]) == (b,)


def test_findings_are_sorted_deterministically() -> None:
    raw = answer(
        finding(line=4, severity="low", title="b"),
        finding(line=2, severity="low", title="z"),
        finding(line=2, severity="critical", title="y"),
        finding(line=2, severity="low", title="a"),
    )
    found = list(validate(parse_answer(raw), app_chunk()).findings)
    expected = [(2, "critical", "y"), (2, "low", "a"), (2, "low", "z"), (4, "low", "b")]
    assert [(f.line, f.severity.value, f.title) for f in merge(found)] == expected
    assert merge(found[::-1]) == merge(found)


def wide_diff(long_line: str) -> str:
    body = "".join(f"+{line}\n" for line in ["evil = 1", long_line, "steal()"])
    return (
        "diff --git a/wide.py b/wide.py\nindex 1111111..2222222 100644\n--- a/wide.py\n"
        f"+++ b/wide.py\n@@ -0,0 +1,3 @@\n{body}"
    )


def cut_line_finding(long_line: str) -> tuple[str, Finding]:
    """The text the chunk showed for line 2 of a too-long line's file, and a finding on it."""
    (chunk,) = [c for c in chunks_of(wide_diff(long_line), 200) if 2 in c.files[0].added_lines]
    shown = file_of(chunk, "wide.py").new_texts[2]
    (f,) = checked(chunk, finding(path="wide.py", line=2))
    return shown, f


def test_a_finding_on_a_cut_line_is_fingerprinted_by_the_cut_text_the_model_saw() -> None:
    shown, f = cut_line_finding("# " + "x" * 3000 + "TAIL")
    assert "line cut:" in shown and "TAIL" not in shown and len(shown) < 3000
    assert f.fingerprint == fingerprint("wide.py", Category.BUG, "Division by zero", [shown])
    # What the model did not see does not change the id: the same cut text, another tail.
    again, g = cut_line_finding("# " + "x" * 3000 + "LIAT")
    assert (again, g.fingerprint) == (shown, f.fingerprint)


def test_hidden_characters_are_kept_escaped_as_the_model_saw_them() -> None:
    raw = "\tok = user\u202e.is_admin\u200b  # \x1b[2J"
    diff = APP_DIFF.replace("+password = 'x'", "+" + raw)
    chunk = app_chunk(diff)
    shown = file_of(chunk, "src/app.py").new_texts[4]
    assert shown == clean(raw)
    assert shown.startswith("\tok") and "\u202e" not in shown and "\u200b" not in shown
    assert "\x1b" not in shown
    (f,) = checked(chunk, finding(line=4))
    assert f.fingerprint == fingerprint("src/app.py", Category.BUG, "Division by zero", [shown])
    # A line that only looks the same to a reader is other code to the model, and to the id.
    (plain,) = checked(app_chunk(APP_DIFF.replace("+password = 'x'", "+\tok = user.is_admin")),
                       finding(line=4))
    assert plain.fingerprint != f.fingerprint


def test_a_line_that_imitates_the_rendering_gains_nothing() -> None:
    # Added lines that look like a file header and a numbered gutter line, which a reader of
    # the rendered text could take for a line 9 and a file other.py the chunk shows.
    forged = ['=== FILE "other.py"', "9 password = 'x'", "@@ def other():"]
    diff = APP_DIFF.replace("+\n", "".join(f"+{line}\n" for line in forged)).replace(
        "+1,5 @@", "+1,7 @@"
    )
    chunk = app_chunk(diff)
    assert [cf.path for cf in chunk.files] == ["src/app.py"]
    cf = file_of(chunk, "src/app.py")
    assert sorted(cf.new_texts) == list(range(1, 8))
    assert cf.new_texts[4] == "9 password = 'x'"
    for mode in FilterMode:
        assert checked(chunk, finding(path="other.py", line=1), mode=mode) == ()
        assert checked(chunk, finding(line=9), mode=mode) == ()
    (f,) = checked(chunk, finding(line=4))
    assert f.fingerprint == fingerprint(
        "src/app.py", Category.BUG, "Division by zero", ["9 password = 'x'"]
    )


def split_file(
    path: str, header: str, lines: list[str]
) -> tuple[Chunk, Chunk, ChunkFile, ChunkFile]:
    """The first two chunks of a one-file patch too big for one, and the file's part of each."""
    diff = f"diff --git a/{path} b/{path}\n{header}" + "".join(f"{ln}\n" for ln in lines)
    first, second, *_ = chunks_of(diff, 300)
    return first, second, file_of(first, path), file_of(second, path)


def test_a_file_split_over_two_chunks_is_checked_against_each_chunks_own_lines() -> None:
    lines = [f"+value_{i} = compute({i})" for i in range(1, 81)]
    header = "--- a/big.py\n+++ b/big.py\n@@ -0,0 +1,80 @@\n"
    first, second, one, two = split_file("big.py", header, lines)
    n = min(two.added_lines)  # owned by the second chunk, shown as context after the first
    assert n not in one.added_lines and n in one.context_lines
    assert one.new_texts[n] == two.new_texts[n] == f"value_{n} = compute({n})"
    assert checked(first, finding(path="big.py", line=n)) == ()
    (owned,) = checked(second, finding(path="big.py", line=n))
    (as_context,) = checked(first, finding(path="big.py", line=n), mode=FilterMode.DIFF_CONTEXT)
    # The same line seen from both chunks is one finding.
    assert as_context.fingerprint == owned.fingerprint
    assert merge([as_context, owned]) == (owned,)
    # A range that runs from the first chunk's lines into the second's is in neither.
    last = max(one.added_lines)
    assert checked(first, finding(path="big.py", line=last, end_line=n)) == ()
    assert checked(second, finding(path="big.py", line=last, end_line=n)) == ()


def test_a_path_with_spaces_and_unicode_from_a_real_repository(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.write("dir with space/ünï €.py", "a = 1\nb = 2\n")
    repo.write("old name.py", "keep = 1\n")
    base = repo.commit("base")
    repo.write("dir with space/ünï €.py", "a = 1\nb = 2\nc = \"ünï\"\n")
    repo.git("mv", "old name.py", "new näme.py")
    repo.write("new näme.py", "keep = 1\nmore = 2\n")
    head = repo.commit("head")
    files = parse_raw(GitRangeSource(repo.root, base, head).read())
    (chunk,) = build_chunks(files, 2000).chunks
    assert_texts_are_shown(chunk)
    assert {cf.path for cf in chunk.files} == {"dir with space/ünï €.py", "new näme.py"}
    assert file_lines(chunk, "new näme.py")  # under its own quoted header
    assert f'=== FILE {quote_path("new näme.py")} (renamed from "old name.py")' in chunk.text
    (f,) = checked(chunk, finding(path="dir with space/ünï €.py", line=3))
    code = ['c = "ünï"']
    assert f.fingerprint == fingerprint("dir with space/ünï €.py", Category.BUG, f.title, code)
    (g,) = checked(chunk, finding(path="new näme.py", line=2))
    assert g.fingerprint == fingerprint("new näme.py", Category.BUG, g.title, ["more = 2"])
    for other in ("old name.py", '"dir with space/ünï €.py"', "dir with space/uni €.py",
                  "dir with space/\\303\\274n\\303\\257 \\342\\202\\254.py"):
        assert checked(chunk, finding(path=other, line=2)) == ()


@pytest.mark.parametrize("field", ["path", "title", "message"])
def test_schema_and_parser_agree_on_empty_strings(field: str) -> None:
    """What constrained decoding may produce, the parser must accept, and the reverse: an
    empty path, title or message is refused by both."""
    import jsonschema

    from reviewer.chunks.prompt import findings_schema

    bad = json.loads(answer(finding(**{field: ""})))
    assert not jsonschema.Draft202012Validator(findings_schema()).is_valid(bad)
    with pytest.raises(InvalidAnswerError):
        parse_answer(json.dumps(bad))


def test_max_findings_sets_the_schema_and_caps_the_answer() -> None:
    from reviewer.chunks.prompt import findings_schema

    assert findings_schema(3)["properties"]["findings"]["maxItems"] == 3
    raw = parse_answer(answer(*(finding(title=f"p{i}") for i in range(5))))
    capped = validate(raw, app_chunk(), FilterMode.ADDED, 3)
    assert [f.title for f in capped.findings] == ["p0", "p1", "p2"]
    assert capped.dropped == 2
    # The cap never exceeds the schema's maxItems, whatever a caller asks for.
    raw = parse_answer(answer(*(finding(title=f"p{i}") for i in range(60))))
    assert len(validate(raw, app_chunk(), FilterMode.ADDED, 1000).findings) == (
        MAX_FINDINGS_PER_CHUNK
    )


# --- findings on removed lines (side "old" -> LEFT) ------------------------------------------

REMOVAL_DIFF = """\
diff --git a/src/app.py b/src/app.py
index 1111111..2222222 100644
--- a/src/app.py
+++ b/src/app.py
@@ -1,5 +1,3 @@
 def delete(user, target):
-    if not user.is_admin:
-        raise Forbidden()
     target.delete()
     return 204
"""


def removal_chunk() -> Chunk:
    """The real chunker's chunk of a diff that only removes a permission check."""
    return app_chunk(REMOVAL_DIFF)


def test_a_finding_on_a_removed_line_is_kept_on_the_left_with_old_numbers() -> None:
    chunk = removal_chunk()
    assert chunk.files[0].removed_lines == {2, 3}
    raw = finding(side="old", line=2, end_line=3, title="Permission check removed")
    (f,) = checked(chunk, raw)
    assert (f.side, f.line, f.end_line) == ("LEFT", 2, 3)
    assert f.head_line == 1  # the head line the removed check followed
    gone = ["    if not user.is_admin:", "        raise Forbidden()"]
    assert f.fingerprint == fingerprint("src/app.py", Category.BUG, f.title, gone, "LEFT")
    (g,) = checked(chunk, finding(side="old", line=3, end_line=None))
    assert (g.line, g.end_line, g.head_line) == (3, 3, 1)


@pytest.mark.parametrize(
    "over",
    [
        {"side": "old", "line": 1},  # a context line is not a removed line
        {"side": "old", "line": 4},  # not shown as removed (old line 4 is context)
        {"side": "old", "line": 3, "end_line": 4},  # runs into context
        {"side": "old", "line": 99},
        {"side": "new", "line": 2},  # new line 2 is context, not added
    ],
)
def test_a_left_finding_on_a_line_the_chunk_did_not_show_as_removed_is_dropped(
    over: dict[str, Any],
) -> None:
    for mode in FilterMode:
        if mode is FilterMode.DIFF_CONTEXT and over["side"] == "new":
            continue  # a context line on the RIGHT is allowed in this mode
        result = validate(parse_answer(answer(finding(**over))), removal_chunk(), mode)
        assert (result.findings, result.dropped) == ((), 1)


def test_removed_lines_of_a_split_deletion_are_named_only_in_the_chunk_that_owns_them() -> None:
    gone = [f"-check_{i}(user)" for i in range(1, 81)]
    header = "deleted file mode 100644\n--- a/gone.py\n+++ /dev/null\n@@ -1,80 +0,0 @@\n"
    first, second, one, two = split_file("gone.py", header, gone)
    n = min(two.removed_lines)  # shown without its number after the first chunk's lines
    assert f"-check_{n}(user)" in file_lines(first, "gone.py")
    assert n not in one.old_texts and two.old_texts[n] == f"check_{n}(user)"
    for mode in FilterMode:
        assert checked(first, finding(path="gone.py", side="old", line=n), mode=mode) == ()
    (f,) = checked(second, finding(path="gone.py", side="old", line=n))
    assert (f.side, f.head_line) == ("LEFT", 1)
    assert f.fingerprint == fingerprint("gone.py", Category.BUG, f.title, [two.old_texts[n]],
                                        "LEFT")


def test_side_old_on_an_added_only_chunk_is_dropped() -> None:
    assert kept(finding(side="old", line=2)) == []


def test_side_is_required_and_strict() -> None:
    for bad_side in ("LEFT", "removed", None, 1):
        with pytest.raises(InvalidAnswerError, match="side"):
            parse_answer(answer(finding(side=bad_side)))
    with pytest.raises(InvalidAnswerError, match="side"):
        parse_answer(without("side"))


def test_schema_and_parser_agree_on_the_side() -> None:
    import jsonschema

    from reviewer.chunks.prompt import findings_schema

    validator = jsonschema.Draft202012Validator(findings_schema())
    assert "side" in findings_schema()["properties"]["findings"]["items"]["required"]
    for side in ("new", "old"):
        assert validator.is_valid(json.loads(answer(finding(side=side))))
        assert parse_answer(answer(finding(side=side)))[0].side == side
    assert not validator.is_valid(json.loads(answer(finding(side="LEFT"))))
    assert not validator.is_valid(json.loads(without("side")))


def test_the_fingerprint_distinguishes_sides_and_keeps_right_ids() -> None:
    right = fingerprint("a.py", Category.BUG, "T", ["x"])
    assert right == fingerprint("a.py", Category.BUG, "T", ["x"], "RIGHT")
    basis = "\x1f".join(["v1", "a.py", "bug", "t", "x"])  # the id issue 11 found, unchanged
    assert right == hashlib.sha256(basis.encode()).hexdigest()[:32]
    left = "\x1f".join(["v1", "a.py", "bug", "t", "x", "LEFT"])  # LEFT ids stay too
    assert fingerprint("a.py", Category.BUG, "T", ["x"], "LEFT") == (
        hashlib.sha256(left.encode()).hexdigest()[:32]
    )
    # Several flagged lines: each whitespace-normalised, joined by newlines.
    lines = "\x1f".join(["v1", "a.py", "bug", "t", "x = 1\nreturn x"])
    assert fingerprint("a.py", Category.BUG, "T", ["  x  =  1 ", "\treturn x"]) == (
        hashlib.sha256(lines.encode()).hexdigest()[:32]
    )
    # A path git wrote as bytes that are not UTF-8 (decoded with surrogateescape) has an id.
    odd = "\x1f".join(["v1", "caf\udce9.py", "bug", "t", "x"]).encode("utf-8", "surrogatepass")
    assert fingerprint("caf\udce9.py", Category.BUG, "T", ["x"]) == (
        hashlib.sha256(odd).hexdigest()[:32]
    )


def test_the_same_text_removed_and_added_gives_two_findings() -> None:
    diff = (
        "diff --git a/src/app.py b/src/app.py\nindex 1111111..2222222 100644\n"
        "--- a/src/app.py\n+++ b/src/app.py\n@@ -1,3 +1,3 @@\n a()\n-\tcheck(x)\n"
        "+    check(x)\n b()\n"
    )
    chunk = app_chunk(diff)
    found = checked(chunk, finding(side="old"), finding(side="new"))
    merged = merge(list(found))
    assert sorted(f.side for f in merged) == ["LEFT", "RIGHT"]
    assert merged[0].fingerprint != merged[1].fingerprint
