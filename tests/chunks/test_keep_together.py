"""A file's hunks stay together where they fit: a file whose pieces fit in one chunk is never cut
across chunks, even when the chunk being filled is already partly full (the file then starts a
new chunk), and packing stays content-defined."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.chunks.chunking import build_chunks, is_group_boundary
from reviewer.diff.parse import parse_diff


def _file(path: str, hunks: Sequence[int], width: int = 1) -> str:
    """A modified file with one hunk of `n` added lines per entry, far apart."""
    out = [f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
           f"--- a/{path}\n+++ b/{path}\n"]  # fmt: skip
    at = 1
    for h, n in enumerate(hunks):
        out.append(f"@@ -{at + 99},0 +{at + 100},{n} @@\n")
        out += [f"+{'v' * width}_{h}_{i} = compute({i})\n" for i in range(n)]
        at += 200
    return "".join(out)


def _same_group_pair() -> tuple[str, str]:
    """Two sorted paths where the second starts no group: it joins the first's chunk if it fits."""
    names = [f"m{i:03}.py" for i in range(200)]
    for first, second in zip(names, names[1:], strict=False):
        if not is_group_boundary(second):
            return first, second
    raise AssertionError("no such pair")


def test_a_file_that_fits_starts_a_new_chunk_rather_than_being_cut() -> None:
    first, second = _same_group_pair()
    alone = parse_diff(_file(second, [6, 6, 6]))
    budget = build_chunks(alone, 10_000).chunks[0].estimated_tokens + 40  # just fits alone
    files = parse_diff(_file(first, [10]) + _file(second, [6, 6, 6]))
    result = build_chunks(files, budget)
    holding = [c.index for c in result.chunks for cf in c.files if cf.path == second]
    assert len(holding) == 1  # all three hunks in one chunk
    [chunk] = [c for c in result.chunks if c.index == holding[0]]
    assert {cf.path for cf in chunk.files} == {second}  # the partly full chunk was not used
    assert len([c for c in result.chunks if any(cf.path == first for cf in c.files)]) == 1
    assert [ln for ln in chunk.text.split("\n") if ln.startswith("@@")] == ["@@"] * 3


def test_a_small_file_still_joins_a_partly_full_chunk() -> None:
    first, second = _same_group_pair()
    files = parse_diff(_file(first, [3]) + _file(second, [2, 2]))
    [only] = build_chunks(files, 10_000).chunks
    assert [cf.path for cf in only.files] == [first, second]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.lists(st.integers(1, 12), min_size=1, max_size=4), min_size=1, max_size=8),
    budget=st.integers(120, 900),
)
def test_any_file_that_fits_one_chunk_alone_is_in_exactly_one_chunk(
    sizes: list[list[int]], budget: int
) -> None:
    text = "".join(_file(f"f{i:02}.py", hunks) for i, hunks in enumerate(sizes))
    files = parse_diff(text)
    together = build_chunks(files, budget)
    for f in files:
        if len(build_chunks([f], budget).chunks) == 1:
            held = [c.index for c in together.chunks for cf in c.files if cf.path == f.path]
            assert len(held) == 1, f.path
