"""A fast parser for the hunk bodies of one git file section.

It accepts only the well-formed shape `git diff` writes: hunk headers, each followed by exactly
the lines its counts promise (with "\\ No newline at end of file" markers), and nothing else.
Anything else returns None and the caller falls back to unidiff, which keeps the exact messages
and the lenient handling of odd input; on the shapes accepted here the result is identical to
the unidiff path (the diff tests and the fuzz properties compare both)."""

from __future__ import annotations

import functools
import itertools
import re

from reviewer.models import DiffLine, Hunk, LineKind

# The same header grammar as unidiff's (a missing length means 1).
_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@[ ]?(.*)")
_NO_NEWLINE = "\\ No newline at end of file"
_ADDED, _REMOVED, _CONTEXT = LineKind.ADDED, LineKind.REMOVED, LineKind.CONTEXT
_MARKS = frozenset("+- ")


def strip_ending(value: str) -> str:
    """Drop the line ending, CRLF included: the model sees the code, not its line ending."""
    if value.endswith("\n"):
        value = value[:-1]
    if value.endswith("\r"):
        value = value[:-1]
    return value


def fast_hunks(body: list[str]) -> tuple[Hunk, ...] | None:
    """The hunks of a section body (from its first "@@ " line on), or None when the body is not
    in the plain shape this parser handles."""
    hunks: list[Hunk] = []
    # Each line's first character, in one string: a hunk runs at most to the next line starting
    # with "@" (no hunk line does), which lets the common hunk be read whole (_plain_hunk). An
    # empty line (split_lines makes none) would shift the positions: then _hunk reads it all.
    marks = "".join([line[:1] for line in body])
    i, n = 0, len(body)
    whole = len(marks) == n
    while i < n:
        line = body[i]
        if line.startswith("\\"):
            # Between hunks only the exact marker is harmless to unidiff.
            if not line.startswith(_NO_NEWLINE):
                return None
            i += 1
            continue
        match = _HUNK_HEADER.match(line)
        if match is None:
            return None
        parsed = None
        if whole:
            stop = marks.find("@", i + 1)
            parsed = _plain_hunk(body, marks, i + 1, n if stop < 0 else stop, match)
        parsed = parsed or _hunk(body, i + 1, match)
        if parsed is None:
            return None
        hunk, i = parsed
        hunks.append(hunk)
    return tuple(hunks)


def _header(match: re.Match[str]) -> tuple[int, int, int, int, str]:
    """(old start, old length, new start, new length, section) of a hunk header's match."""
    old_s, old_l, new_s, new_l, section = match.groups()
    old_len = 1 if old_l is None else int(old_l)
    new_len = 1 if new_l is None else int(new_l)
    return int(old_s), old_len, int(new_s), new_len, strip_ending(section)


def _made(header: tuple[int, int, int, int, str], lines: tuple[DiffLine, ...]) -> Hunk:
    old_start, old_len, new_start, new_len, section = header
    return Hunk.model_construct(
        old_start=old_start,
        old_len=old_len,
        new_start=new_start,
        new_len=new_len,
        section=section,
        lines=lines,
    )


_NEW_LINE = functools.partial(tuple.__new__, DiffLine)
_KIND_OF = {"+": _ADDED, "-": _REMOVED, " ": _CONTEXT}


def _plain_hunk(
    body: list[str], marks: str, at: int, stop: int, match: re.Match[str]
) -> tuple[Hunk, int] | None:
    """The hunk whose lines are exactly body[at:stop] (`marks`: each body line's first
    character), read a whole hunk at a time, or None to leave it to _hunk: only when every
    line is an added, removed or context line ending in a newline, no line holds a CR, and the
    header's counts are exactly those lines'. The lines and the hunk are then those _hunk
    makes: each line moves at least one side's count on, so _hunk's counts are met only at the
    last line, and it strips no CR."""
    header = _header(match)
    old_start, old_len, new_start, new_len, _ = header
    seg, marks = body[at:stop], marks[at:stop]
    if not seg or seg[-1][-1:] != "\n":
        return None
    added, removed = marks.count("+"), marks.count("-")
    context = len(marks) - added - removed
    if (
        marks.count(" ") != context
        or context + removed != old_len
        or context + added != new_len
        or "\r" in "".join(seg)
    ):
        return None
    olds, news = itertools.count(old_start), itertools.count(new_start)
    lines = tuple(
        map(
            _NEW_LINE,
            zip(
                list(map(_KIND_OF.__getitem__, marks)),
                [None if m == "+" else next(olds) for m in marks],
                [None if m == "-" else next(news) for m in marks],
                [line[1:-1] for line in seg],
                strict=True,
            ),
        )
    )
    return _made(header, lines), stop


def _hunk(body: list[str], at: int, match: re.Match[str]) -> tuple[Hunk, int] | None:
    """The hunk whose lines start at body[at], and the index after it; None on a count mismatch
    or an unusual line (unidiff then reports or tolerates it as before)."""
    header = _header(match)
    old_start, old_len, new_start, new_len, _ = header
    if old_len == 0 and new_len == 0:
        return None  # unidiff consumes one more line here: leave that oddity to it
    old_no, new_no = old_start, new_start
    old_end, new_end = old_start + old_len, new_start + new_len
    lines: list[DiffLine] = []
    # Local names and tuple.__new__ (no Python-level __new__ frame): this loop runs once per
    # diff line and is most of the parser's time.
    append, make = lines.append, tuple.__new__
    i, n = at, len(body)
    while i < n:
        line = body[i]
        i += 1
        mark = line[:1]
        if mark == "\\":
            pass  # "\ No newline at end of file": not a line of either file
        elif mark not in _MARKS:
            return None
        else:
            # strip_ending inlined: drop "\n", then a "\r" before it
            text = line[1:-1] if line[-1] == "\n" else line[1:]
            if text[-1:] == "\r":
                text = text[:-1]
            if mark == "+":
                append(make(DiffLine, (_ADDED, None, new_no, text)))
                new_no += 1
            elif mark == "-":
                append(make(DiffLine, (_REMOVED, old_no, None, text)))
                old_no += 1
            else:
                append(make(DiffLine, (_CONTEXT, old_no, new_no, text)))
                old_no += 1
                new_no += 1
        if old_no > old_end or new_no > new_end:
            return None
        if old_no == old_end and new_no == new_end:
            return _made(header, tuple(lines)), i
    return None
