"""The section text of a hunk's header, and of each part of a split hunk: git's own text, then
the enclosing definitions (diff/definitions.py) of the part's first change that the part does
not already show, so a part far from its hunk's start still says what it lives in."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reviewer.diff.definitions import CUT_MARK, SEPARATOR, Definitions
from reviewer.models import DiffLine, Hunk, LineKind

# (index of the part's first shown line, index of its first owned line) -> its section text.
Sections = Callable[[int, int], str]
# git cuts its section text at 80 bytes: a longer git text is the start of the line it names.
_GIT_SECTION_BYTES = 80


def hunk_sections(definitions: Definitions, path: str, hunk: Hunk) -> Sections:
    """The section texts of `hunk` of the file at `path`, by part."""

    def at(first: int, start: int) -> str:
        anchor = _anchor(hunk.lines, start)
        if anchor is None:
            return hunk.section
        at_base, number = anchor
        chain = definitions.enclosing(path, number, base=at_base)
        if not chain:
            return hunk.section
        # git's text is about the hunk's first line: a part further down has its own.
        git = hunk.section.strip() if first == 0 else ""
        shown_from = _first_number(hunk.lines[first:], at_base)
        items = [git] if git else []
        items += [
            s.text
            for s in chain
            if (shown_from is None or s.start < shown_from) and not _same(git, s.text)
        ]
        return SEPARATOR.join(items)

    return at


def _anchor(lines: Sequence[DiffLine], start: int) -> tuple[bool, int] | None:
    """(whether at base, line number) of the first change from `start`: an added line in the
    head file; a removed line in the base file, unless added lines replace it right after (a
    modified line lives where its new version does)."""
    for i in range(start, len(lines)):
        kind = lines[i].kind
        if kind is LineKind.ADDED:
            return False, lines[i].new_no  # type: ignore[return-value]
        if kind is LineKind.REMOVED:
            j = i
            while j < len(lines) and lines[j].kind is LineKind.REMOVED:
                j += 1
            if j < len(lines) and lines[j].kind is LineKind.ADDED:
                return False, lines[j].new_no  # type: ignore[return-value]
            return True, lines[i].old_no  # type: ignore[return-value]
    return None


def _first_number(lines: Sequence[DiffLine], at_base: bool) -> int | None:
    """The first line number the shown lines have on that side: lines from it on are shown."""
    for line in lines:
        number = line.old_no if at_base else line.new_no
        if number is not None:
            return number
    return None


def _same(git: str, text: str) -> bool:
    """Whether git's section text names the definition line `text` (whole, or cut by either)."""
    if not git:
        return False
    if git == text:
        return True
    if len(git.encode("utf-8")) >= _GIT_SECTION_BYTES - 8 and text.startswith(git):
        return True
    return text.endswith(CUT_MARK) and git.startswith(text[: -len(CUT_MARK)])
