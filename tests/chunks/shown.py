"""An assertion for any chunk: the line texts it keeps are exactly what its text shows."""

from __future__ import annotations

from reviewer.chunks.render import quote_path
from reviewer.models import Chunk

_FILE = "=== FILE "


def file_lines(chunk: Chunk, path: str) -> list[str]:
    """The rendered lines under `path`'s own file headers in the chunk's text."""
    header = _FILE + quote_path(path)
    out: list[str] = []
    inside = False
    for line in chunk.text.split("\n"):
        if line.startswith(_FILE):
            inside = line == header or line.startswith(header + " (")
        elif inside:
            out.append(line)
    return out


def assert_texts_are_shown(chunk: Chunk) -> None:
    """Each file's kept texts are those of exactly the numbers the chunk lists, and each is the
    text behind that number and that line's marker under the file's own header (a context
    line's behind the context prefix, without a number)."""
    for cf in chunk.files:
        assert set(cf.new_texts) == cf.added_lines | cf.context_lines, cf.path
        assert set(cf.old_texts) == cf.removed_lines, cf.path
        lines = set(file_lines(chunk, cf.path))
        for n in cf.added_lines:
            assert f"{n} {cf.new_texts[n]}" in lines, (cf.path, n, "added")
        for n in cf.removed_lines:
            assert f"{n}-{cf.old_texts[n]}" in lines, (cf.path, n, "removed")
        for n in cf.context_lines:
            assert f" {cf.new_texts[n]}" in lines, (cf.path, n, "context")
