"""Bounded chunks: every changed line (added and removed) of every reviewed file in exactly one
chunk, no chunk over the token budget, byte-identical output for the same diff.

A file's rendering depends only on that file's diff, and files are grouped by a content-defined
rule (sorted paths; a group starts at a file whose path hash is a boundary), so a change to one
file changes only its own group's chunks: the response cache keeps hitting for the rest."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from reviewer.chunks.prompt import estimate_tokens, prompt_overhead_tokens
from reviewer.chunks.render import file_header, hunk_header, render_lines, with_gutter
from reviewer.chunks.scale import unscaled
from reviewer.chunks.sections import Sections, hunk_sections
from reviewer.diff.definitions import Definitions
from reviewer.errors import UsageError
from reviewer.models import (
    NO_CONTEXT,
    Chunk,
    ChunkFile,
    FileDiff,
    Hunk,
    LineKind,
    PromptContext,
)
from reviewer.settings.config import DEFAULT_CONTEXT_LINES, DEFAULT_NUM_CTX

BOUNDARY_MODULUS = 4  # about one group per 4 files
MIN_CHUNK_TOKENS = 64  # a file header, a hunk header and one short line


def chunk_budget(
    num_ctx: int,
    num_predict: int,
    context: PromptContext = NO_CONTEXT,
    *,
    reserve: int = 0,
    scale: float = 1.0,
) -> int:
    """Estimated tokens a chunk's text may use: the context minus the answer and the rest of
    the prompt (the system prompt with the rules, the intent, the path-scoped rules, the
    framing). `reserve`: tokens that must be left over beside it, so that whether a run is
    refused never depends on the author's text (room for the longest intent, however short
    this one is). `scale`: the model's real tokens per estimated token (chunks/calibration.py),
    so that the scaled estimate of the whole prompt fits what the context leaves."""
    budget = unscaled(num_ctx - num_predict, scale) - prompt_overhead_tokens(context)
    if budget - reserve < MIN_CHUNK_TOKENS:
        with_what = ""
        if reserve or context.intent:
            with_what = " (with room for the change's intent)"
        elif context.rules:
            with_what = " (with the repository's rules)"
        raise UsageError(
            f"--num-ctx {num_ctx} leaves {budget - reserve} tokens for the diff after the "
            f"prompt{with_what} and the {num_predict}-token answer; at least "
            f"{MIN_CHUNK_TOKENS} are needed",
            hint=f"raise --num-ctx (default {DEFAULT_NUM_CTX}) or lower --num-predict"
            + (", or pass --no-description" if with_what.endswith("intent)") else ""),
        )
    return budget


def _weight(text: str) -> int:
    """A rendered line's tokens plus its newline. estimate_tokens counts no token across a line
    break, so the weights of lines add up to the estimate of the joined text."""
    return estimate_tokens(text) + 1


@dataclass
class _Block:
    """Rendered lines with their weights and the line numbers they show (new-file numbers of
    added and context lines, old-file numbers of removed lines), with the text each numbered
    line shows after its prefix."""

    lines: list[str] = field(default_factory=list)
    tokens: int = 0
    added: set[int] = field(default_factory=set)
    context: set[int] = field(default_factory=set)
    removed: dict[int, int] = field(default_factory=dict)  # old number -> head line at
    new_texts: dict[int, str] = field(default_factory=dict)
    old_texts: dict[int, str] = field(default_factory=dict)

    def add_text(self, text: str, weight: int | None = None) -> None:
        self.lines.append(text)
        self.tokens += _weight(text) if weight is None else weight

    def extend(self, other: _Block) -> None:
        self.extend_text(other)
        self.extend_lines_shown(other)

    def extend_text(self, other: _Block) -> None:
        self.lines += other.lines
        self.tokens += other.tokens

    def extend_lines_shown(self, other: _Block) -> None:
        self.added |= other.added
        self.context |= other.context
        self.removed.update(other.removed)
        self.new_texts.update(other.new_texts)
        self.old_texts.update(other.old_texts)

    def cost_with(self, other: _Block) -> int:
        return self.tokens + other.tokens


class _TooLarge(Exception):
    """A single line (with its headers) does not fit in a chunk."""


# --- one hunk -> parts that each fit ---------------------------------------------------------


@dataclass
class _Rendered:
    """A hunk's lines rendered once, with their weight. The weight of all the lines is the
    estimate of their joined text plus the newline after the last: one estimate per hunk, not
    per line. Per-line weights are needed only to split a hunk that does not fit, and made
    then (a changed line shown as context at a split weighs no more than as owned: it loses
    its number)."""

    hunk: Hunk
    texts: list[str]  # the rendered lines
    shown: list[str]  # each line's text after its prefix, as the model sees it
    tokens: int
    _weights: list[int] | None = None

    @classmethod
    def of(cls, hunk: Hunk) -> _Rendered:
        texts, shown = render_lines(hunk.lines)
        return cls(hunk, texts, shown, estimate_tokens("\n".join(texts)) + 1)

    @property
    def weights(self) -> list[int]:
        if self._weights is None:
            self._weights = [_weight(t) for t in self.texts]
        return self._weights


def _whole(r: _Rendered, section: str) -> _Block:
    """The whole hunk as one block, under its own header: a parsed hunk's counts always match
    its lines (diff/parse.py)."""
    h = r.hunk
    block = _Block()
    block.add_text(hunk_header(section))
    block.lines += r.texts
    block.tokens += r.tokens
    # What _removed_at and _keep_shown give for the whole hunk, in one pass over its lines
    # (every hunk not split goes through here: most of a large diff).
    at = max(1, _new_position(h, 0))
    added_kind = LineKind.ADDED
    added, context, removed = block.added, block.context, block.removed
    new_texts, old_texts = block.new_texts, block.old_texts
    for (kind, old_no, new_no, _), text in zip(h.lines, r.shown, strict=True):
        if new_no is None:  # a removed line
            removed[old_no] = at  # type: ignore[index]
            old_texts[old_no] = text  # type: ignore[index]
        else:
            at = new_no
            new_texts[new_no] = text
            (added if kind is added_kind else context).add(new_no)
    return block


def _part(r: _Rendered, first: int, start: int, end: int, context: int, section: str) -> _Block:
    """Lines [first, end + context) rendered; only [start, end) own their changed lines."""
    lines = r.hunk.lines
    last = min(len(lines), end + context)
    news = [ln.new_no for ln in lines[first:last] if ln.kind is not LineKind.REMOVED]
    block = _Block()
    block.add_text(hunk_header(section))
    block.lines += [_as_context(r, i) for i in range(first, start)]
    block.lines += r.texts[start:end]
    block.lines += [_as_context(r, i) for i in range(end, last)]
    block.tokens += sum(r.weights[first:last])
    added = LineKind.ADDED
    block.added = {ln.new_no for ln in lines[start:end] if ln.kind is added}  # type: ignore[misc]
    block.removed = _removed_at(r.hunk, start, end)
    block.context = {n for n in news if n is not None} - block.added
    _keep_shown(block, r, first, start, end, last)
    return block


def _as_context(r: _Rendered, index: int) -> str:
    return with_gutter(r.hunk.lines[index], r.shown[index], as_context=True)


def _keep_shown(block: _Block, r: _Rendered, first: int, start: int, end: int, last: int) -> None:
    """The shown text of every line of [first, last) that the block shows with a number: all
    lines with a new-file number, and the removed lines of [start, end) it owns (a removed
    line shown as context has no number the model could name)."""
    lines, shown = r.hunk.lines, r.shown
    for i in range(first, last):
        number = lines[i].new_no
        if number is not None:
            block.new_texts[number] = shown[i]
        elif start <= i < end:
            block.old_texts[lines[i].old_no] = shown[i]  # type: ignore[index]


def _removed_at(hunk: Hunk, start: int, end: int) -> dict[int, int]:
    """Old-file number of each removed line in [start, end) -> the head line it follows (1 at
    the top of the file): where formats that only know the head file point at a removal."""
    at = max(1, _new_position(hunk, start))
    out: dict[int, int] = {}
    for line in hunk.lines[start:end]:
        if line.new_no is not None:
            at = line.new_no
        elif line.old_no is not None:
            out[line.old_no] = at
    return out


def _new_position(hunk: Hunk, index: int) -> int:
    """The new-file number of the last line before `index` (unified diff's convention for an
    empty range: the line it follows)."""
    for line in reversed(hunk.lines[:index]):
        if line.new_no is not None:
            return line.new_no
    return hunk.new_start - 1 if hunk.new_len else hunk.new_start


def _hunk_parts(
    hunk: Hunk, room: int, context: int, sections: Sections | None = None
) -> list[_Block]:
    """The hunk as one block if it fits in `room`, else split at line boundaries, each part
    with `context` lines of the hunk around it. Removal-only hunks are reviewed too: a deleted
    check is a change like any other. `sections`: each part's header text (else git's)."""
    r = _Rendered.of(hunk)
    section = hunk.section if sections is None else sections(0, 0)
    header = _weight(hunk_header(section))
    if r.tokens + header <= room:
        return [_whole(r, section)]
    parts, start = [], 0
    while start < len(hunk.lines):
        first = max(0, start - context)
        if sections is not None:
            section = sections(first, start)
            header = _weight(hunk_header(section))
        try:
            end = _part_end(r.weights, start, room, header, context)
        except _TooLarge:
            if section == hunk.section:
                raise
            # The definitions never cost a line its place: without them, git's text.
            section = hunk.section
            header = _weight(hunk_header(section))
            end = _part_end(r.weights, start, room, header, context)
        if any(ln.kind is not LineKind.CONTEXT for ln in hunk.lines[start:end]):
            parts.append(_part(r, first, start, end, context, section))
        start = end
    return parts


def _part_end(weights: Sequence[int], start: int, room: int, header: int, context: int) -> int:
    """The largest end so that the header, context before, lines [start, end) and context
    after fit in `room`."""
    used = header + sum(weights[max(0, start - context) : start])
    end = start
    while end < len(weights):
        after = sum(weights[end + 1 : end + 1 + context])
        if used + weights[end] + after > room:
            break
        used, end = used + weights[end], end + 1
    if end == start:
        raise _TooLarge
    return end


# --- one file -> pieces; files -> chunks -----------------------------------------------------


# Room the marker of a cut line takes, in tokens (estimate_tokens of the longest marker: 27).
_CUT_MARKER_TOKENS = 32
# estimate_tokens costs at most this many tokens per character (4 UTF-8 bytes: 3, and its
# margin of an eighth).
_MAX_TOKENS_PER_CHAR = 4


def cut_marker(left: int) -> str:
    return f"\u2026[line cut: {left:,} more characters]"


def _cut_long_lines(hunk: Hunk, room: int, context: int) -> Hunk:
    """The hunk with every line too long to fit in a part (with its hunk header and context)
    cut, with a visible marker: the rest of the file is still reviewed, and a finding on a
    cut line keeps its line number."""
    header = _weight(hunk_header(hunk.section))
    limit = (room - header) // (2 * context + 1) - 1  # tokens one line may weigh
    keep = (limit - _CUT_MARKER_TOKENS) // _MAX_TOKENS_PER_CHAR
    if keep < 1:
        return hunk  # no room even for a cut line: _part_end reports the file too large
    if all(len(ln.text) <= keep for ln in hunk.lines):
        return hunk  # the common case, without estimating a single line
    lines = tuple(
        ln._replace(text=ln.text[:keep] + cut_marker(len(ln.text) - keep))
        if len(ln.text) > keep and estimate_tokens(ln.text) > limit
        else ln
        for ln in hunk.lines
    )
    return hunk.model_copy(update={"lines": lines})


def _file_pieces(
    f: FileDiff, budget: int, context: int, definitions: Definitions | None = None
) -> list[_Block]:
    header = _Block()
    header.add_text(file_header(f))
    room = budget - header.tokens
    pieces: list[_Block] = []
    current: _Block | None = None
    for hunk in f.hunks:
        try:
            sections = None if definitions is None else hunk_sections(definitions, f.path, hunk)
            parts = _hunk_parts(hunk, room, context, sections)
        except _TooLarge:  # a line too long for any part: cut the long lines, then split
            cut = _cut_long_lines(hunk, room, context)
            sections = None if definitions is None else hunk_sections(definitions, f.path, cut)
            parts = _hunk_parts(cut, room, context, sections)
        for part in parts:
            if current is None or current.cost_with(part) > budget:
                current = _Block()
                current.extend(header)
                pieces.append(current)
            current.extend(part)
    return pieces


def is_group_boundary(path: str) -> bool:
    """Content-defined grouping: whether a new chunk group starts at this file."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BOUNDARY_MODULUS == 0


@dataclass
class _Open:
    block: _Block
    files: list[tuple[str, _Block]]


def _to_chunk(index: int, group: _Open) -> Chunk:
    # A file's first piece in the group takes the others' numbers: no copy of its line texts
    # in the common case of one piece per file (the pieces are not used again).
    merged: dict[str, _Block] = {}
    for path, piece in group.files:
        if path in merged:
            merged[path].extend_lines_shown(piece)
        else:
            merged[path] = piece
    files = tuple(
        ChunkFile.model_construct(
            path=p,
            added_lines=frozenset(b.added),
            context_lines=frozenset(b.context),
            removed_lines=frozenset(b.removed),
            removed_at=b.removed,
            new_texts=b.new_texts,
            old_texts=b.old_texts,
        )
        for p, b in merged.items()
    )
    text = "\n".join(group.block.lines)
    return Chunk.model_construct(
        index=index, files=files, text=text, estimated_tokens=estimate_tokens(text)
    )


@dataclass
class ChunkingResult:
    chunks: tuple[Chunk, ...]
    # Files that do not fit even with their long lines cut (a budget too small for one hunk
    # header and a cut line): left out, unreviewed.
    too_large: tuple[str, ...]


def build_chunks(
    files: Sequence[FileDiff],
    budget: int,
    context_lines: int = DEFAULT_CONTEXT_LINES,
    definitions: Definitions | None = None,
) -> ChunkingResult:
    """Pack the files' pieces into chunks in sorted path order. A hunk too large for one chunk
    is split, and each part shows `context_lines` lines of the hunk around it. With
    `definitions`, each hunk's and part's header names its enclosing definitions."""
    groups: list[_Open] = []
    too_large: list[str] = []
    for f in sorted(files, key=lambda f: f.path):
        try:
            pieces = _file_pieces(f, budget, context_lines, definitions)
        except _TooLarge:
            too_large.append(f.path)
            continue
        for n, piece in enumerate(pieces):
            starts_group = n == 0 and (not groups or is_group_boundary(f.path))
            if starts_group or groups[-1].block.cost_with(piece) > budget:
                groups.append(_Open(_Block(), []))
            groups[-1].block.extend_text(piece)  # the group's numbers are its files'
            groups[-1].files.append((f.path, piece))
    chunks = tuple(_to_chunk(i, g) for i, g in enumerate(groups))
    return ChunkingResult(chunks=chunks, too_large=tuple(too_large))
