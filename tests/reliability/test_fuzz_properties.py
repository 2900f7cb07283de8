"""Property-based fuzzing of every parser that reads untrusted input: the diff parser, the
chunker on random file diffs, the model-answer parser (through validation, the findings
document and every output format) and the findings-document loader used by `reviewer post`.

Each property is a plain `check_*` function with its strategy, so fuzz/run.py can run the same
properties for hundreds of thousands of examples outside CI. In CI each runs
REVIEWER_FUZZ_EXAMPLES examples (default 60). Crashes found by the long runs are kept at the
end of this file as regression tests."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reviewer.chunks.chunking import build_chunks
from reviewer.chunks.prompt import estimate_tokens
from reviewer.chunks.render import clean, quote_path
from reviewer.diff.parse import decode_diff, parse_diff
from reviewer.errors import DiffError, FindingsDocumentError, InvalidAnswerError
from reviewer.findings.answer import merge, parse_answer, validate
from reviewer.findings.document import load_document
from reviewer.formats import FORMAT_NAMES, render
from reviewer.models import (
    Chunk,
    ChunkFile,
    DiffLine,
    FileDiff,
    FileStatus,
    FindingsDocument,
    Hunk,
    LineKind,
    ModelInfo,
    Status,
    ToolInfo,
)
from tests.chunks.shown import assert_texts_are_shown
from tests.model_fakes import APP_CHUNK_NEW_TEXTS

EXAMPLES = int(os.environ.get("REVIEWER_FUZZ_EXAMPLES", "60"))
CI_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# --- text pieces that stress parsers: quotes, escapes, controls, separators, non-ASCII ------

HOSTILE_CHARS = '"\\\t\r\x00\x07\x1b\x7f\x85\u2028\u202e\ufeff\ud7ff\U0001f600é/ -+@`<>&'
hostile_text = st.text(alphabet=st.sampled_from(HOSTILE_CHARS) | st.characters(), max_size=12)
small_int = st.integers(0, 6) | st.sampled_from([10**12, 2**63, 99999])

# --- the diff parser: text shaped like a diff, and anything else ------------------------------

path_st = st.sampled_from(
    ["a.py", "d/b c.txt", '"q\\303\\251\\t.py"', '"bad\\x"', "-rf", "../up", "/abs", "é.py", ""]
) | hostile_text


def _hunk_header(a: int, b: int | None, c: int, d: int | None, section: str) -> str:
    old = f"-{a}" if b is None else f"-{a},{b}"
    new = f"+{c}" if d is None else f"+{c},{d}"
    return f"@@ {old} {new} @@{section}"


hunk_header_st = st.builds(
    _hunk_header, small_int, st.none() | small_int, small_int, st.none() | small_int,
    st.sampled_from(["", " def f():", " x"]) | hostile_text,
) | st.sampled_from(["@@ -x +y @@", "@@@ -1 -1 +1 @@@", "@@ -1,1 +1,1", "@@"])

header_line_st = st.one_of(
    st.builds(lambda p, q: f"diff --git a/{p} b/{q}", path_st, path_st),
    st.builds(lambda p: f"diff --git {p}", path_st),
    st.sampled_from([
        "new file mode 100644", "deleted file mode 100755", "old mode 100644",
        "new mode 100755", "new mode 160000", "index abc..def 100644", "index abc..def",
        "similarity index 90%", "Binary files a/x and b/y differ", "GIT binary patch",
        "--- /dev/null", "+++ /dev/null", "literal 0",
    ]),
    st.builds(lambda k, p: f"{k} {p}", st.sampled_from(
        ["rename from", "rename to", "copy from", "copy to", "---", "+++", "--- a/", "+++ b/"]
    ), path_st),
)

body_line_st = st.builds(
    lambda mark, text: mark + text,
    st.sampled_from(["+", "-", " ", "", "\\ No newline at end of file", "~"]),
    hostile_text,
)

diff_line_st = st.one_of(header_line_st, hunk_header_st, body_line_st, body_line_st)


def _file_section(path: str, hunks: list[tuple[int, int, list[str]]], git: bool) -> str:
    """A mostly well-formed file: headers, then hunks whose counts may be off."""
    head = f"diff --git a/{path} b/{path}\nindex 1..2 100644\n" if git else ""
    out = [f"{head}--- a/{path}\n+++ b/{path}\n"]
    for start, skew, lines in hunks:
        old = sum(1 for ln in lines if ln[:1] in "- ") + (skew if skew < 0 else 0)
        new = sum(1 for ln in lines if ln[:1] in "+ ") + (skew if skew > 0 else 0)
        out.append(_hunk_header(start, old, start, new, "") + "\n")
        out.extend(ln + "\n" for ln in lines)
    return "".join(out)


structured_diff_st = st.lists(
    st.builds(
        _file_section,
        path_st,
        st.lists(
            st.tuples(st.integers(0, 5), st.sampled_from([0, 0, 0, -1, 1, 3]),
                      st.lists(body_line_st, max_size=8)),
            max_size=3,
        ),
        st.booleans(),
    ),
    max_size=4,
).map("".join)

diff_text_st = st.one_of(
    structured_diff_st,
    st.lists(diff_line_st, max_size=30).map("\n".join),
    st.lists(diff_line_st, max_size=30).map("\r\n".join),
    st.binary(max_size=400).map(decode_diff),
    st.text(max_size=200),
)


def check_diff_parser(text: str) -> None:
    """Any text: a tuple of consistent FileDiffs, or a DiffError. Never anything else."""
    try:
        files = parse_diff(text)
    except DiffError as e:
        assert e.message and "\n" not in e.message.strip()
        return
    assert isinstance(files, tuple)
    for f in files:
        assert isinstance(f, FileDiff)
        kinds = [ln.kind for h in f.hunks for ln in h.lines]
        assert f.added == kinds.count(LineKind.ADDED)
        assert f.removed == kinds.count(LineKind.REMOVED)
        for hunk in f.hunks:
            _check_numbering(hunk)


def _check_numbering(hunk: Hunk) -> None:
    """Added lines have only a new number, removed only an old one, both increase."""
    news = [ln.new_no for ln in hunk.lines if ln.kind is not LineKind.REMOVED]
    olds = [ln.old_no for ln in hunk.lines if ln.kind is not LineKind.ADDED]
    assert all(isinstance(n, int) for n in news + olds)
    assert news == sorted(news) and len(set(news)) == len(news)
    assert olds == sorted(olds) and len(set(olds)) == len(olds)
    # The counts match the lines, whatever the header said: the chunker and the file counts
    # rely on it.
    assert (hunk.old_len, hunk.new_len) == (len(olds), len(news))
    for ln in hunk.lines:
        assert (ln.old_no is None) == (ln.kind is LineKind.ADDED)
        assert (ln.new_no is None) == (ln.kind is LineKind.REMOVED)
        assert "\n" not in ln.text


@CI_SETTINGS
@given(diff_text_st)
@example("diff --git a/x b/x\n@@ -1 +1 @@\n")
@example('diff --git "a/x\\" b/x\n')
def test_diff_parser_returns_file_diffs_or_a_diff_error(text: str) -> None:
    check_diff_parser(text)


# --- the chunker: random file diffs, tiny budgets ---------------------------------------------

line_text_st = st.one_of(
    st.sampled_from(["x = 1", "", "    return a / b", "é" * 40, "y" * 300]), hostile_text
)


@st.composite
def file_diff_st(draw: st.DrawFn, path: str) -> FileDiff:
    hunks: list[Hunk] = []
    old_no = new_no = 1
    for _ in range(draw(st.integers(0, 3))):
        old_no += draw(st.integers(0, 20))
        new_no += draw(st.integers(0, 20))
        old_start, new_start = old_no, new_no
        lines: list[DiffLine] = []
        for kind in draw(st.lists(st.sampled_from(list(LineKind)), min_size=1, max_size=25)):
            text = draw(line_text_st)
            old = None if kind is LineKind.ADDED else old_no
            new = None if kind is LineKind.REMOVED else new_no
            old_no += kind is not LineKind.ADDED
            new_no += kind is not LineKind.REMOVED
            lines.append(DiffLine(kind=kind, old_no=old, new_no=new, text=text))
        hunks.append(Hunk(
            old_start=old_start, old_len=old_no - old_start, new_start=new_start,
            new_len=new_no - new_start, lines=tuple(lines),
            section=draw(st.sampled_from(["", "def f():"]) | hostile_text),
        ))
    kinds = [ln.kind for h in hunks for ln in h.lines]
    return FileDiff(
        path=path, old_path=path, status=draw(st.sampled_from(list(FileStatus))),
        hunks=tuple(hunks), added=kinds.count(LineKind.ADDED),
        removed=kinds.count(LineKind.REMOVED),
    )


chunk_path_st = st.sampled_from(["a.py", "b.py", "d/c.py", "z z.md", "é.rs"]) | st.text(
    min_size=1, max_size=10
)
files_st = st.lists(chunk_path_st, max_size=5, unique=True).flatmap(
    lambda paths: st.tuples(*(file_diff_st(p) for p in paths))
)
budget_st = st.sampled_from([64, 80, 150, 400, 3000])


def _added(f: FileDiff) -> set[int]:
    return {ln.new_no for h in f.hunks for ln in h.lines if ln.new_no and ln.kind == "added"}


def _removed(f: FileDiff) -> set[int]:
    return {ln.old_no for h in f.hunks for ln in h.lines if ln.old_no and ln.kind == "removed"}


def check_chunker(files: tuple[FileDiff, ...], budget: int) -> None:
    """Every changed line (added and removed) of every file not skipped as too large is in
    exactly one chunk, and the chunk keeps the text it shows for each of its numbered lines
    (what the findings validator checks against); chunks are numbered 0..n-1, within the budget, and do not depend on the order
    the files came in."""
    result = build_chunks(files, budget)
    assert [c.index for c in result.chunks] == list(range(len(result.chunks)))
    seen: dict[str, list[int]] = {}
    seen_removed: dict[str, list[int]] = {}
    for chunk in result.chunks:
        assert chunk.estimated_tokens == estimate_tokens(chunk.text) <= budget
        assert_texts_are_shown(chunk)
        for cf in chunk.files:
            seen.setdefault(cf.path, []).extend(cf.added_lines)
            seen_removed.setdefault(cf.path, []).extend(cf.removed_lines)
            assert set(cf.removed_at) == cf.removed_lines
            assert all(n >= 1 for n in cf.removed_at.values())
    for f in files:
        big = f.path in result.too_large
        assert sorted(seen.get(f.path, [])) == ([] if big else sorted(_added(f)))
        assert sorted(seen_removed.get(f.path, [])) == ([] if big else sorted(_removed(f)))
    assert build_chunks(tuple(reversed(files)), budget) == result


@CI_SETTINGS
@given(files_st, budget_st)
def test_chunker_covers_every_changed_line_once_within_budget(
    files: tuple[FileDiff, ...], budget: int
) -> None:
    check_chunker(files, budget)


# --- the model's answer: parse, validate, document, every format ------------------------------

CHUNK = Chunk(
    index=0,
    files=(ChunkFile(path="src/app.py", added_lines=frozenset({2, 3, 4}),
                     context_lines=frozenset({1, 5}), new_texts=APP_CHUNK_NEW_TEXTS,
                     old_texts={}),),
    text=(
        '=== FILE "src/app.py"\n@@ def div\n def div(a, b):\n'
        "2     return a / b\n3 \n4 password = 'x'\n-    return 0\n"
        " # end"
    ),
    estimated_tokens=60,
)

json_value_st = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)
finding_st = st.fixed_dictionaries(
    {
        "path": st.sampled_from(["src/app.py", "src/app.py", "other.py", "../src/app.py"]),
        "side": st.sampled_from(["new", "new", "old", "NEW", "LEFT"]),
        "line": st.integers(-1, 6) | st.sampled_from([2**63, 2.0]),
        "end_line": st.none() | st.integers(0, 6),
        "severity": st.sampled_from(["critical", "high", "medium", "low", "info", "HIGH"]),
        "category": st.sampled_from(["security", "bug", "performance", "style", "maintainability"]),
        "title": hostile_text,
        "message": hostile_text,
        "suggestion": st.none() | hostile_text,
    }
).flatmap(
    lambda d: st.one_of(
        st.just(d),
        st.builds(lambda k, v: {**d, k: v}, st.sampled_from(sorted(d)) | hostile_text,
                  json_value_st),
        st.builds(lambda k: {x: y for x, y in d.items() if x != k}, st.sampled_from(sorted(d))),
    )
)


def _wrap(body: str, how: str, cut: int) -> str:
    if how == "fence":
        return f"```json\n{body}\n```"
    if how == "prose":
        return f"Here are the findings:\n{body}"
    if how == "cut":
        return body[: cut % (len(body) + 1)]
    return f"  {body}\n"


answer_st = st.one_of(
    st.builds(
        lambda fs, how, cut: _wrap(json.dumps({"findings": fs}), how, cut),
        st.lists(finding_st, max_size=4),
        st.sampled_from(["plain", "plain", "fence", "prose", "cut"]),
        st.integers(0, 10_000),
    ),
    st.builds(json.dumps, json_value_st),
    st.text(max_size=200),
)


def check_answer(content: str) -> None:
    """Any answer: InvalidAnswerError, or findings that validate against the chunk, make a
    document that round-trips through JSON, and render in every output format."""
    try:
        raw = parse_answer(content)
    except InvalidAnswerError as e:
        assert e.kind == "invalid_answer" and e.message
        return
    checked = validate(raw, CHUNK)
    assert len(checked.findings) + checked.dropped == len(raw)
    for f in checked.findings:
        assert f.path == "src/app.py"
        assert {*range(f.line, f.end_line + 1)} <= CHUNK.files[0].added_lines
    doc = FindingsDocument(
        status=Status.PARTIAL, tool=ToolInfo(version="0"), model=ModelInfo(backend="o", name="m"),
        findings=merge(list(checked.findings)),
    )
    assert FindingsDocument.model_validate_json(doc.model_dump_json()) == doc
    for name in FORMAT_NAMES:
        assert isinstance(render(doc, name), str)


@CI_SETTINGS
@given(answer_st)
def test_any_answer_is_findings_or_an_invalid_answer(content: str) -> None:
    check_answer(content)


# --- the findings document `reviewer post` reads ----------------------------------------------

VALID_DOC: dict[str, Any] = json.loads(
    FindingsDocument(
        status=Status.COMPLETE, tool=ToolInfo(version="0.1.0"),
        model=ModelInfo(backend="ollama", name="m", digest="sha256:00"),
        findings=merge(list(validate(parse_answer(json.dumps({"findings": [{
            "path": "src/app.py", "side": "new", "line": 2, "end_line": 3, "severity": "high",
            "category": "bug", "title": "t", "message": "m", "suggestion": "s",
        }]})), CHUNK).findings)),
    ).model_dump_json()
)


def _mutate(doc: Any, path: list[int], value: Any, action: str) -> Any:
    """Replace, delete or add at a position chosen by `path` (indices into sorted keys)."""
    if not path or not isinstance(doc, dict | list) or not doc:
        return value if action == "replace" else doc
    keys = sorted(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    out = dict(doc) if isinstance(doc, dict) else list(doc)
    if len(path) == 1 and action == "delete":
        del out[key]
    elif len(path) == 1 and action == "add" and isinstance(out, dict):
        out[f"extra{path[0]}"] = value
    else:
        out[key] = _mutate(doc[key], path[1:], value, action)
    return out


document_bytes_st = st.one_of(
    st.builds(
        lambda p, v, a: json.dumps(_mutate(VALID_DOC, p, v, a)).encode(),
        st.lists(st.integers(0, 20), min_size=1, max_size=5),
        json_value_st,
        st.sampled_from(["replace", "delete", "add"]),
    ),
    st.builds(lambda n: json.dumps(VALID_DOC).encode()[:n], st.integers(0, 2000)),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)

_DOC_PATH = Path(tempfile.mkdtemp(prefix="reviewer-fuzz-")) / "findings.json"


def check_document_loader(data: bytes) -> None:
    """Any bytes: a FindingsDocument that round-trips, or a FindingsDocumentError."""
    _DOC_PATH.write_bytes(data)
    try:
        doc = load_document(_DOC_PATH)
    except FindingsDocumentError as e:
        assert e.message
        return
    assert FindingsDocument.model_validate_json(doc.model_dump_json()) == doc


@CI_SETTINGS
@given(document_bytes_st)
@example(json.dumps(VALID_DOC).encode())
def test_document_loader_returns_a_document_or_a_clear_error(data: bytes) -> None:
    check_document_loader(data)


def test_the_valid_document_really_loads() -> None:
    # Guards the mutation strategy: its starting point must be accepted.
    _DOC_PATH.write_bytes(json.dumps(VALID_DOC).encode())
    assert load_document(_DOC_PATH).findings[0].line == 2


TARGETS = {
    "diff_parser": (check_diff_parser, (diff_text_st,)),
    "chunker": (check_chunker, (files_st, budget_st)),
    "answer_parser": (check_answer, (answer_st,)),
    "document_loader": (check_document_loader, (document_bytes_st,)),
}


# --- regressions found by fuzz/run.py ----------------------------------------------------------

def _one_line_file(path: str) -> FileDiff:
    line = DiffLine(kind=LineKind.ADDED, old_no=None, new_no=1, text="x = 1")
    hunk = Hunk(old_start=0, old_len=0, new_start=1, new_len=1, lines=(line,))
    return FileDiff(path=path, old_path=None, status=FileStatus.ADDED, hunks=(hunk,), added=1)


REGRESSIONS: list[tuple[str, tuple[Any, ...]]] = [
    # Found by the CI-sized run: a path with DEL (or C1, U+2028, a bidi override) was rendered
    # as `"\x7f"`, not JSON, so the validator could not read the file's lines back.
    ("chunker", ((_one_line_file("\x7f"),), 64)),
    ("chunker", ((_one_line_file("a\u2028b\u202e\x85.py"),), 3000)),
]


@CI_SETTINGS
@given(hostile_text)
def test_file_headers_parse_back_to_the_exact_path(path: str) -> None:
    header = quote_path(path)
    assert json.loads(header) == path
    assert clean(header) == header  # nothing a terminal or the prompt would misread


@pytest.mark.parametrize(("target", "args"), REGRESSIONS)
def test_fuzz_regressions(target: str, args: tuple[Any, ...]) -> None:
    TARGETS[target][0](*args)
