"""Enclosing definitions: the `class`, `def`, `func`... lines a changed line lives in, for common
languages (one table, by file extension), so a hunk or a part of a split hunk can name them in
its header even when git's own section text names something else (for Python, git names the
nearest unindented line; for a split part, the hunk's start, not the part's).

A definition is a line the language's pattern matches (after git's userdiff idea of a
"function line"); it encloses the lines after it that are more indented, up to the first
significant line indented no deeper (blank lines, comments, preprocessor lines and lone
closing or opening brackets do not end it). The text is the pull request author's: it is cut,
and only ever shown behind the hunk header's fixed `@@` prefix (chunks/render.py escapes it);
it never decides which lines are reviewed."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

from reviewer.diff.interface import DiffSource
from reviewer.models import FileDiff, FileStatus

MAX_LEVELS = 2  # the innermost definition and its container
MAX_CHARS = 80  # of each definition line shown; longer ones are cut with CUT_MARK
CUT_MARK = "\u2026"
SEPARATOR = " \u203a "  # between levels: `class Store: › def save(self, item):`
# Of each file, only this much is read: hunks further down keep git's own section text.
FILE_BYTES = 256 * 1024
# End searches may scan at most this many times the file's text (deep nesting is quadratic);
# past it the file's remaining definitions are left out, so the cost stays linear.
SCAN_FACTOR = 16

_DEF = r"^[ \t]*(?:{})"
# Every pattern is anchored at a line start and made of pieces that cannot match the same text
# two ways (no two adjacent repeats share a character), so a hostile line costs linear time;
# no class matches a newline, so a match never runs into the next line.
_MODIFIERS = (
    r"(?:(?:public|private|protected|internal|static|final|abstract|sealed|open|override|async"
    r"|export|default|partial|readonly|virtual|extern|inline|unsafe|data|inner|suspend|enum"
    r"|synchronized|native|const|pub(?:\([^)\n]*\))?)[ \t]+)*"
)
# A method or function head without a keyword (C, C++, Java, C#): up to six words (a type, its
# qualifiers), a name, `(`, and no `;` on the line; statements that look like it are excluded.
_TYPED_HEAD = (
    r"(?!(?:if|else|for|foreach|while|do|switch|case|return|throw|catch|new|delete|sizeof|goto"
    r"|using|lock|await|yield)\b)(?:[A-Za-z_][^\s;(){}=]*[ \t]+){1,6}[*&]*[A-Za-z_~][\w:~]*"
    r"[ \t]*\([^;\n]*$"
)
_SOURCES: dict[str, str] = {
    "python": r"(?:async[ \t]+)?def[ \t]|class[ \t]",
    "js": r"(?:export[ \t]+)?(?:default[ \t]+)?(?:async[ \t]+)?function\b"
    r"|(?:export[ \t]+)?(?:abstract[ \t]+)?(?:class|interface|namespace|enum)[ \t]"
    r"|(?:export[ \t]+)?(?:const|let|var)[ \t]+[\w$]+[ \t]*=[ \t]*(?:async[ \t]*)?"
    r"(?:function\b|\([^)\n]*\)[ \t]*=>|[\w$]+[ \t]*=>)"
    r"|(?:(?:public|private|protected|static|readonly|async|get|set|override)[ \t]+)*"
    r"(?!(?:if|for|while|switch|catch|return)\b)[\w$]+[ \t]*\([^;\n]*\{[ \t]*$",
    "go": r"func[ \t(]|type[ \t][^\n]*\b(?:struct|interface)\b",
    "rust": _MODIFIERS + r"(?:fn|struct|enum|union|trait|impl|mod|macro_rules!)[ \t<]",
    "java": _MODIFIERS + r"(?:class|interface|enum|record|@interface)[ \t]|" + _TYPED_HEAD,
    "kotlin": _MODIFIERS + r"(?:fun|class|interface|object)[ \t<]",
    "c": r"(?:class|struct|union|enum|namespace)[ \t][^;\n]*$|" + _TYPED_HEAD,
    "csharp": _MODIFIERS + r"(?:class|struct|interface|enum|record|namespace)[ \t]|"
    + _TYPED_HEAD,
    "ruby": r"(?:class|module|def)[ \t]",
    "php": r"(?:(?:public|protected|private|static|abstract|final|readonly)[ \t]+)*function\b"
    r"|(?:(?:final|abstract|readonly)[ \t]+)*(?:class|interface|trait|enum)[ \t]",
    "shell": r"function[ \t]+[\w-]+|[\w-]+[ \t]*\([ \t]*\)",
}
# File extension -> language (lower case; a file's own attributes are not consulted: they are
# the pull request's).
EXTENSIONS: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi"), "python"),
    **dict.fromkeys((".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts"), "js"),
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    **dict.fromkeys((".kt", ".kts"), "kotlin"),
    **dict.fromkeys((".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx"), "c"),
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    **dict.fromkeys((".sh", ".bash", ".zsh", ".ksh"), "shell"),
}
# A line that ends no block: blank, a comment or preprocessor line, a lone bracket (Allman
# braces, a closing `)` of a long signature).
_INSIGNIFICANT = r"[ \t]*(?:\r?$|[#*{}()\[\]]|//|/\*|<!--)"


def language(path: str) -> str | None:
    """The table's language for `path`, by its extension; None when it has none."""
    return EXTENSIONS.get(PurePosixPath(path).suffix.lower())


@cache
def _pattern(lang: str) -> re.Pattern[str]:
    return re.compile(_DEF.format(_SOURCES[lang]), re.MULTILINE)


@cache
def _closer(indent: int) -> re.Pattern[str]:
    """A significant line indented at most `indent` characters: where a definition ends."""
    return re.compile(rf"^(?!{_INSIGNIFICANT})[ \t]{{0,{indent}}}(?![ \t])", re.MULTILINE)


def cut(text: str) -> str:
    """A definition line as shown: without its indentation, at most MAX_CHARS characters."""
    line = text.strip()
    return line if len(line) <= MAX_CHARS else line[:MAX_CHARS].rstrip() + CUT_MARK


@dataclass(frozen=True)
class Scope:
    start: int  # the definition's own line (1-based)
    end: int  # the first line after it that it no longer encloses
    text: str  # the line, cut


class Outline:
    """One file's definitions and the lines each encloses, found once from its text; the text
    itself is not kept."""

    def __init__(self, text: str, lang: str, *, complete: bool = True) -> None:
        self.scopes: list[Scope] = []
        # Lines past a file read only in part are unknown: no definition is claimed there.
        self.known_lines = text.count("\n") + (1 if complete else 0)
        budget = SCAN_FACTOR * len(text) + 1
        line, at = 1, 0
        for m in _pattern(lang).finditer(text):
            line += text.count("\n", at, m.start())
            at = m.start()
            head = m.group(0)
            indent = len(head) - len(head.lstrip(" \t"))
            body = text.find("\n", m.end())
            if body < 0:
                break  # the last line of the text: it encloses nothing shown
            stop = _closer(indent).search(text, body + 1)
            end_at = stop.start() if stop else len(text)
            budget -= end_at - body
            if budget < 0:
                break
            end = line + 1 + text.count("\n", body + 1, end_at)
            line_text = text[at : body].rstrip("\r")
            self.scopes.append(Scope(line, end if stop else self.known_lines + 1, cut(line_text)))
        self._starts = [s.start for s in self.scopes]

    def enclosing(self, number: int) -> tuple[Scope, ...]:
        """The definitions enclosing line `number`, outermost first, at most MAX_LEVELS."""
        if number > self.known_lines:
            return ()
        found: list[Scope] = []
        for i in range(bisect.bisect_left(self._starts, number) - 1, -1, -1):
            scope = self.scopes[i]
            if scope.end > number and (not found or scope.end >= found[-1].end):
                found.append(scope)
                if len(found) == MAX_LEVELS:
                    break
        return tuple(reversed(found))


class Definitions:
    """The outlines of the files a review reads, by path, for each side of the diff."""

    def __init__(self, head: Mapping[str, Outline], base: Mapping[str, Outline]) -> None:
        self._sides = (head, base)

    def enclosing(self, path: str, number: int, *, base: bool) -> tuple[Scope, ...]:
        outline = self._sides[base].get(path)
        return outline.enclosing(number) if outline is not None else ()



def read_definitions(files: Sequence[FileDiff], source: DiffSource) -> Definitions | None:
    """The outlines of the files in the table's languages: each file at head where it has added
    lines, and at base (by its old path) where it has removed ones, from one git process and at
    most FILE_BYTES of each. None for a source without a tree (a patch file)."""
    coded = [f for f in files if language(f.path) is not None]
    head = [f.path for f in coded if f.added and f.status is not FileStatus.DELETED]
    olds = {(f.old_path or f.path): f.path for f in coded if f.removed}
    olds = {old: new for old, new in olds.items() if language(old) is not None}
    blobs = source.file_blobs(head, list(olds), FILE_BYTES)
    if blobs is None:
        return None
    sides: tuple[dict[str, Outline], dict[str, Outline]] = ({}, {})
    for at_base, path, data, whole in blobs:
        lang = language(path)
        if lang is not None:
            text = data.decode("utf-8", "replace")
            sides[at_base][olds[path] if at_base else path] = Outline(text, lang, complete=whole)
    return Definitions(*sides)
