"""An assertion for any chunk: the line texts it keeps are exactly what its text shows."""

from __future__ import annotations

from reviewer.chunks.render import GUTTER, quote_path
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
    text behind that number's gutter, with that line's marker, under the file's own header."""
    for cf in chunk.files:
        assert set(cf.new_texts) == cf.added_lines | cf.context_lines, cf.path
        assert set(cf.old_texts) == cf.removed_lines, cf.path
        lines = set(file_lines(chunk, cf.path))
        for numbers, mark, texts in (
            (cf.added_lines, "+", cf.new_texts),
            (cf.context_lines, " ", cf.new_texts),
            (cf.removed_lines, "-", cf.old_texts),
        ):
            for n in numbers:
                assert f"{n:>{GUTTER}} {mark}|{texts[n]}" in lines, (cf.path, n, mark)
