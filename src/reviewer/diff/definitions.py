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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath

from reviewer.diff.interface import DiffSource
from reviewer.models import FileDiff, FileStatus, LineKind

MAX_LEVELS = 2  # the innermost definition and its container
MAX_CHARS = 80  # of each definition line shown; longer ones are cut with CUT_MARK
CUT_MARK = "\u2026"
SEPARATOR = " \u203a "  # between levels: `class Store: › def save(self, item):`
# Of each file, only this much is read: hunks further down keep git's own section text.
FILE_BYTES = 256 * 1024

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
    "csharp": _MODIFIERS + r"(?:class|struct|interface|enum|record|namespace)[ \t]|" + _TYPED_HEAD,
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
# The words a definition line can start with, per language (after its indentation): lines
# starting otherwise are not matched at all, and a file holding none of them is not scanned.
_MODIFIER_WORDS = ("public", "private", "protected", "internal", "static", "final", "abstract",
                   "sealed", "open", "override", "async", "export", "default", "partial",
                   "readonly", "virtual", "extern", "inline", "unsafe", "data", "inner",
                   "suspend", "enum", "synchronized", "native", "const", "pub")  # fmt: skip
_FIRST_WORDS: dict[str, tuple[str, ...]] = {
    "python": ("def", "class", "async"),
    "js": ("export", "default", "async", "function", "class", "interface", "namespace", "enum",
           "abstract", "const", "let", "var"),
    "go": ("func", "type"),
    "rust": (*_MODIFIER_WORDS, "fn", "struct", "union", "trait", "impl", "mod", "macro_rules"),
    "java": (*_MODIFIER_WORDS, "class", "interface", "record", "@interface"),
    "kotlin": (*_MODIFIER_WORDS, "fun", "class", "interface", "object"),
    "c": ("class", "struct", "union", "enum", "namespace"),
    "csharp": (*_MODIFIER_WORDS, "class", "struct", "interface", "record", "namespace"),
    "ruby": ("class", "module", "def"),
    "php": ("public", "protected", "private", "static", "abstract", "final", "readonly",
            "function", "class", "interface", "trait", "enum"),
    "shell": ("function",),
}  # fmt: skip
# Languages whose definitions may start with any word (a typed function or method head, a
# shell function `name()`): any line with a `(` is matched.
_ANY_WORD = frozenset({"js", "java", "c", "csharp", "shell"})
# Lines that end no block: blank, a comment or preprocessor line, a lone bracket (Allman
# braces, a closing `)` of a long signature).
_INSIGNIFICANT = ("#", "*", "{", "}", "(", ")", "[", "]", "//", "/*", "<!--", "\r")


def language(path: str) -> str | None:
    """The table's language for `path`, by its extension; None when it has none."""
    return EXTENSIONS.get(PurePosixPath(path).suffix.lower())


@cache
def _pattern(lang: str) -> re.Pattern[str]:
    return re.compile(_DEF.format(_SOURCES[lang]))


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
    """One file's definitions and the lines each encloses, found in one pass over its text
    (up to line `last`: no line after it is asked about); the text itself is not kept."""

    def __init__(self, text: str, lang: str, *, complete: bool = True, last: int = 0) -> None:
        lines = text.split("\n")
        if not complete:
            lines.pop()  # cut inside it: lines from it on are unknown, no definition is claimed
        if last:
            del lines[last:]
        self.known_lines = len(lines)
        words = _FIRST_WORDS[lang]
        self.scopes: list[Scope] = []
        if lang in _ANY_WORD or any(w in text for w in words):
            self.scopes = sorted(_scopes(lines, _pattern(lang), words, lang in _ANY_WORD),
                                 key=lambda s: s.start)  # fmt: skip
        self._starts = [s.start for s in self.scopes]
        self._parents = _parents(self.scopes)

    def enclosing(self, number: int) -> tuple[Scope, ...]:
        """The definitions enclosing line `number`, outermost first, at most MAX_LEVELS."""
        if number > self.known_lines:
            return ()
        # The innermost one holds the last definition starting before the line, or is it.
        found: list[Scope] = []
        index: int | None = bisect.bisect_left(self._starts, number) - 1
        while index is not None and index >= 0 and len(found) < MAX_LEVELS:
            scope = self.scopes[index]
            if scope.end > number:
                found.append(scope)
            index = self._parents[index]
        return tuple(reversed(found))


def _parents(scopes: Sequence[Scope]) -> list[int | None]:
    """Each scope's nearest enclosing scope (scopes nest or are apart: indentation made them)."""
    parents: list[int | None] = []
    stack: list[int] = []
    for i, scope in enumerate(scopes):
        while stack and scopes[stack[-1]].end <= scope.start:
            stack.pop()
        parents.append(stack[-1] if stack else None)
        stack.append(i)
    return parents


class Definitions:
    """The outlines of the files a review reads, by path, for each side of the diff. A base
    outline not read up front is read when first asked for (`load`), once."""

    def __init__(
        self,
        head: Mapping[str, Outline],
        base: dict[str, Outline | None],
        load: Callable[[str], Outline | None] | None = None,
    ) -> None:
        self._head, self._base, self._load = head, base, load

    def enclosing(self, path: str, number: int, *, base: bool) -> tuple[Scope, ...]:
        if base:
            if path not in self._base and self._load is not None:
                self._base[path] = self._load(path)
            outline = self._base.get(path)
        else:
            outline = self._head.get(path)
        return outline.enclosing(number) if outline is not None else ()


def read_definitions(files: Sequence[FileDiff], source: DiffSource) -> Definitions | None:
    """The outlines of the files in the table's languages, at most FILE_BYTES of each, from
    one git process: at head where a file has added lines, at base (by its old path) where it
    has a hunk without added lines. A split part of another hunk that holds only removed lines
    reads its file's base when it is made. A file added or deleted whole is its own diff:
    nothing is read. None for a source without a tree (a patch file)."""
    langs = {f.path: lang for f in files if f.hunks and (lang := language(f.path))}
    coded = {f.path: f for f in files if f.path in langs}
    olds = {p: f.old_path or p for p, f in coded.items() if f.removed}
    olds = {p: old for p, old in olds.items() if language(old) == langs[p]}
    head = [p for p, f in coded.items() if f.added and f.status is not FileStatus.ADDED]
    now = [p for p in olds if coded[p].status is not FileStatus.DELETED and _removal_hunk(coded[p])]
    blobs = source.file_blobs(head, [olds[p] for p in now], FILE_BYTES)
    if blobs is None:
        return None
    sides: tuple[dict[str, Outline], dict[str, Outline | None]] = ({}, {})
    for p, f in coded.items():
        if f.status in (FileStatus.ADDED, FileStatus.DELETED):
            text = "\n".join(ln.text for ln in f.hunks[0].lines)
            sides[f.status is FileStatus.DELETED][p] = Outline(text, langs[p])
    by_old = {olds[p]: p for p in now}
    for at_base, path, data, whole in blobs:
        key = by_old[path] if at_base else path
        sides[at_base][key] = _outline(coded[key], langs[key], data, whole, base=at_base)
    sides[1].update(dict.fromkeys((p for p in now if p not in sides[1]), None))

    def load(path: str) -> Outline | None:
        if path not in olds:
            return None
        read = list(source.file_blobs([], [olds[path]], FILE_BYTES) or ())
        return _outline(coded[path], langs[path], *read[0][2:], base=True) if read else None

    return Definitions(sides[0], sides[1], load)


def _outline(f: FileDiff, lang: str, data: bytes, whole: bool, *, base: bool) -> Outline:
    text = data.decode("utf-8", "replace")
    return Outline(text, lang, complete=whole, last=_last(f, base=base))


def _removal_hunk(f: FileDiff) -> bool:
    return any(all(ln.kind is not LineKind.ADDED for ln in h.lines) for h in f.hunks)


def _last(f: FileDiff, *, base: bool) -> int:
    """The last line number the file's diff shows on that side: no line after it is asked."""
    h = f.hunks[-1]
    return max(1, h.old_start + h.old_len if base else h.new_start + h.new_len)


def _scopes(
    lines: list[str], pattern: re.Pattern[str], words: tuple[str, ...], any_word: bool
) -> list[Scope]:
    """Every definition among `lines` with the lines it encloses: a definition stays open
    until a significant line indented no deeper than it."""
    scopes: list[Scope] = []
    open_defs: list[tuple[int, int, str]] = []  # (indent, line number, cut text), nested
    for number, line in enumerate(lines, 1):
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith(_INSIGNIFICANT):
            continue
        indent = len(line) - len(stripped)
        while open_defs and open_defs[-1][0] >= indent:
            _, start, shown = open_defs.pop()
            scopes.append(Scope(start, number, shown))
        candidate = stripped.startswith(words) or (any_word and "(" in stripped)
        if candidate and pattern.match(stripped):
            open_defs.append((indent, number, cut(line)))
    end = len(lines) + 1
    scopes += (Scope(start, end, shown) for _, start, shown in open_defs)
    return scopes
