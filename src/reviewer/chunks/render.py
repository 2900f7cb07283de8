"""How a file's diff is shown to the model. Every rendered line starts with a fixed prefix, so
diff content can never stand at the start of a line and forge the prompt's delimiters; control
characters inside the text are escaped.

The format (docs/performance.md measured it against the model's tokenizer): a file header
`=== FILE "path"`, a hunk header `@@` with git's section text, then one line per diff line:

    12 text    an added line, behind its new-file number and a space
    7-text     a removed line, behind its old-file number and `-`
     text      a context line, behind one space: no number (git's own context marker)
    -text      a removed line shown as context (a neighbouring part owns it): no number

A number is shown only on a line the model may name, once; no other line starts with a
digit. The space after an added line's number merges with the code's first word or its
indentation in common tokenizers, so the number costs its digits and little more."""

from __future__ import annotations

import json
from collections.abc import Sequence

from reviewer.models import DiffLine, FileDiff, FileStatus, LineKind
from reviewer.security import escape_hidden, hidden_pattern, json_escape_hidden

CONTEXT_PREFIX = " "
REMOVED_MARK = "-"
ADDED_MARK = " "


def clean(text: str) -> str:
    """`text` with the characters of security's one table (controls, bidi, invisible and tag
    characters) shown as escapes, so the model sees `\\u200b` where a reader would see
    nothing. Tabs stay: they are code."""
    return escape_hidden(text, keep="\t")


def quote_path(path: str) -> str:
    """A path as a JSON string: quotes, backslashes and newlines cannot break the header. The
    characters `clean` would escape are JSON escapes here (`\\u007f`, not `\\x7f`), so the
    header still parses back to the exact path: a model that copies it into its answer names
    the real file."""
    return json_escape_hidden(json.dumps(path, ensure_ascii=False))


def file_header(f: FileDiff) -> str:
    header = f"=== FILE {quote_path(f.path)}"
    if f.status is FileStatus.ADDED:
        return header + " (new file)"
    if f.status is FileStatus.DELETED:
        return header + " (deleted file)"
    if f.status is FileStatus.RENAMED and f.old_path is not None:
        return header + f" (renamed from {quote_path(f.old_path)})"
    if f.status is FileStatus.COPIED and f.old_path is not None:
        return header + f" (copied from {quote_path(f.old_path)})"
    return header


def hunk_header(section: str) -> str:
    """`@@` and git's section text (the line the hunk lives in). No line range: every line
    the model may name carries its own number."""
    return f"@@ {clean(section)}" if section else "@@"


def render_line(line: DiffLine, *, as_context: bool = False) -> str:
    """One diff line behind its prefix: the new-file number for an added line, the old-file
    number for a removed one, none for context. `as_context` shows a changed line of a
    neighbouring chunk part as context: it is reviewed in the part that owns it, so it shows
    no number the model could name."""
    return with_gutter(line, clean(line.text), as_context=as_context)


def with_gutter(line: DiffLine, shown: str, *, as_context: bool = False) -> str:
    """`shown` (the line's text as `clean` made it) behind the line's prefix."""
    if line.kind is LineKind.REMOVED:
        return f"{REMOVED_MARK}{shown}" if as_context else f"{line.old_no}{REMOVED_MARK}{shown}"
    if line.kind is LineKind.ADDED and not as_context:
        return f"{line.new_no}{ADDED_MARK}{shown}"
    return CONTEXT_PREFIX + shown


# The table without tab and newline, to scan a hunk's lines joined by newlines at once.
_UNSAFE_IN_LINES = hidden_pattern("\t\n")


def render_lines(lines: Sequence[DiffLine]) -> tuple[list[str], list[str]]:
    """`render_line` of every line, and the text each shows after its prefix: the chunk keeps
    those, so findings are checked against what the model saw. One scan for unsafe characters
    over all the lines (most hunks have none, and then each shown text is the line's own
    string, not a copy), then plain formatting."""
    joined = "\n".join([ln.text for ln in lines])
    # A newline inside one line's text (the parser never makes one, a caller might) is not in
    # the scanned table: the count of separators tells it apart, and it is escaped too.
    if joined.count("\n") != len(lines) - 1 or _UNSAFE_IN_LINES.search(joined):
        shown = [clean(ln.text) for ln in lines]
    else:
        shown = [ln.text for ln in lines]
    removed, added = LineKind.REMOVED, LineKind.ADDED
    rendered = [
        f"{old_no}{REMOVED_MARK}{text}"
        if kind is removed
        else f"{new_no}{ADDED_MARK}{text}"
        if kind is added
        else CONTEXT_PREFIX + text
        for (kind, old_no, new_no, _), text in zip(lines, shown, strict=True)
    ]
    return rendered, shown
