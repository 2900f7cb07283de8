"""Strict parsing of model answers and validation of findings against their chunk."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.chunks.render import render_line
from reviewer.errors import InvalidAnswerError
from reviewer.findings.answer import (
    chunk_line_texts,
    merge,
    parse_answer,
    strip_fence,
    validate,
)
from reviewer.models import Chunk, ChunkFile, DiffLine, LineKind, Severity
from reviewer.settings.config import FilterMode
from tests.model_fakes import APP_CHUNK_TEXT, answer, app_chunk, finding

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
        answer({**finding(), "confidence": 0.9}),
        '{"findings": [' + json.dumps(finding())[:-5],
    ],
)
def test_anything_but_the_exact_shape_is_an_invalid_answer(text: str) -> None:
    with pytest.raises(InvalidAnswerError) as e:
        parse_answer(text)
    assert e.value.kind == "invalid_answer"
    assert e.value.exit_code == 3


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


# --- validation against the chunk ----------------------------------------------------------


def kept(*findings: dict[str, Any], mode: FilterMode = FilterMode.ADDED) -> list[tuple[int, int]]:
    result = validate(parse_answer(answer(*findings)), app_chunk(), mode)
    assert result.dropped == len(findings) - len(result.findings)
    return [(f.line, f.end_line) for f in result.findings]


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


def test_diff_context_mode_allows_context_lines() -> None:
    assert kept(finding(line=1), finding(line=4, end_line=5), mode=FilterMode.DIFF_CONTEXT) == [
        (1, 1),
        (4, 5),
    ]
    assert kept(finding(line=6), mode=FilterMode.DIFF_CONTEXT) == []


def test_half_valid_answer_keeps_the_valid_half_and_counts_the_rest() -> None:
    result = validate(
        parse_answer(answer(finding(line=2), finding(line=42), finding(path="made/up.py"))),
        app_chunk(),
    )
    assert [f.line for f in result.findings] == [2]
    assert result.dropped == 2


def test_title_is_one_line() -> None:
    (f,) = validate(parse_answer(answer(finding(title="a\n  b"))), app_chunk()).findings
    assert f.title == "a b"


# --- fingerprints, duplicates, order -------------------------------------------------------


def test_line_texts_are_read_from_the_rendered_gutter() -> None:
    texts = chunk_line_texts(APP_CHUNK_TEXT)
    assert texts[("src/app.py", "RIGHT", 2)] == "    return a / b"
    assert texts[("src/app.py", "RIGHT", 1)] == "def div(a, b):"
    assert ("src/app.py", "RIGHT", 6) not in texts
    # The removed line shown without a number (context of another part) cannot be named.
    assert not [key for key in texts if key[1] == "LEFT"]


def test_line_texts_match_the_real_renderer() -> None:
    line = DiffLine(kind=LineKind.ADDED, old_no=None, new_no=123456, text="x = '|' + y")
    gone = DiffLine(kind=LineKind.REMOVED, old_no=123456, new_no=None, text="check(x)")
    text = '=== FILE "a b.py" (renamed from "old.py")\n' + render_line(line)
    text += "\n" + render_line(gone) + "\n" + render_line(gone, as_context=True)
    assert chunk_line_texts(text) == {
        ("a b.py", "RIGHT", 123456): "x = '|' + y",
        ("a b.py", "LEFT", 123456): "check(x)",
    }


def shifted_chunk(offset: int) -> Chunk:
    """The same code as app_chunk, `offset` lines further down the file."""
    lines = APP_CHUNK_TEXT.split("\n")
    out = []
    for line in lines:
        head, sep, rest = line.partition("|")
        if sep and head.strip() and head.strip()[0].isdigit():
            no, mark = head.strip().split(" ")[0], head.rstrip()[-1]
            mark = mark if mark == "+" else " "
            line = f"{int(no) + offset:>6} {mark}|{rest}"
        out.append(line)
    return Chunk(
        index=0,
        files=(ChunkFile(path="src/app.py", added_lines=frozenset({2 + offset, 3 + offset, 4 + offset}),
                         context_lines=frozenset({1 + offset, 5 + offset})),),
        text="\n".join(out),
        estimated_tokens=60,
    )


def test_fingerprint_survives_an_unrelated_line_shift() -> None:
    a = validate(parse_answer(answer(finding(line=2))), app_chunk()).findings[0]
    b = validate(parse_answer(answer(finding(line=12))), shifted_chunk(10)).findings[0]
    assert a.line != b.line
    assert a.fingerprint == b.fingerprint


def test_fingerprint_differs_for_other_code_or_category() -> None:
    base = validate(parse_answer(answer(finding(line=2))), app_chunk()).findings[0]
    other_line = validate(parse_answer(answer(finding(line=4))), app_chunk()).findings[0]
    other_cat = validate(parse_answer(answer(finding(category="security"))), app_chunk()).findings[0]
    assert len({base.fingerprint, other_line.fingerprint, other_cat.fingerprint}) == 3


def test_the_same_finding_from_two_chunks_appears_once_most_severe_kept() -> None:
    low = validate(parse_answer(answer(finding(severity="low"))), app_chunk(0)).findings
    high = validate(parse_answer(answer(finding(severity="high"))), app_chunk(1)).findings
    (f,) = merge([*low, *high])
    assert f.severity is Severity.HIGH


def test_identical_code_in_two_places_keeps_both_with_distinct_fingerprints() -> None:
    text = APP_CHUNK_TEXT.replace("     3 +|\n", "     3 +|    return a / b\n")
    chunk = app_chunk(text=text)
    found = validate(parse_answer(answer(finding(line=2), finding(line=3))), chunk).findings
    merged = merge(list(found))
    assert [f.line for f in merged] == [2, 3]
    assert merged[0].fingerprint != merged[1].fingerprint


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
    checked = validate(raw, app_chunk(), FilterMode.ADDED, 3)
    assert [f.title for f in checked.findings] == ["p0", "p1", "p2"]
    assert checked.dropped == 2


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
    from reviewer.chunks.chunking import build_chunks
    from reviewer.diff.parse import parse_diff

    (chunk,) = build_chunks(parse_diff(REMOVAL_DIFF), 2000).chunks
    return chunk


def test_a_finding_on_a_removed_line_is_kept_on_the_left_with_old_numbers() -> None:
    chunk = removal_chunk()
    assert chunk.files[0].removed_lines == {2, 3}
    raw = answer(finding(side="old", line=2, end_line=3, title="Permission check removed"))
    (f,) = validate(parse_answer(raw), chunk).findings
    assert (f.side, f.line, f.end_line) == ("LEFT", 2, 3)
    assert f.head_line == 1  # the head line the removed check followed


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
    import hashlib

    from reviewer.findings.answer import fingerprint
    from reviewer.models import Category

    right = fingerprint("a.py", Category.BUG, "T", ["x"])
    assert right == fingerprint("a.py", Category.BUG, "T", ["x"], "RIGHT")
    basis = "\x1f".join(["v1", "a.py", "bug", "t", "x"])  # the id issue 11 found, unchanged
    assert right == hashlib.sha256(basis.encode()).hexdigest()[:32]
    assert fingerprint("a.py", Category.BUG, "T", ["x"], "LEFT") != right


def test_the_same_text_removed_and_added_gives_two_findings() -> None:
    text = (
        '=== FILE "src/app.py"\n@@ -2,1 +2,1 @@\n     2 -|    check(x)\n     2 +|    check(x)'
    )
    chunk = Chunk(
        index=0,
        files=(ChunkFile(path="src/app.py", added_lines=frozenset({2}),
                         context_lines=frozenset(), removed_lines=frozenset({2})),),
        text=text,
        estimated_tokens=20,
    )
    found = validate(parse_answer(answer(finding(side="old"), finding(side="new"))), chunk)
    merged = merge(list(found.findings))
    assert sorted(f.side for f in merged) == ["LEFT", "RIGHT"]
    assert merged[0].fingerprint != merged[1].fingerprint
