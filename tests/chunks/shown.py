"""An assertion for any chunk: the line texts it keeps are exactly what its text shows."""

from __future__ import annotations

import re

from reviewer.chunks.render import quote_path
from reviewer.models import Chunk

_FILE = "=== FILE "
# A line the model may name: an added line's new-file number and a space, or a removed line's
# old-file number and `-`. No other line of a chunk starts with a digit.
NUMBERED = re.compile(r"(?P<number>\d+)(?P<mark>[ -])(?P<text>.*)", re.DOTALL)


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
        numbered = [m for m in map(NUMBERED.fullmatch, file_lines(chunk, cf.path)) if m]
        # Every number the chunk owns is shown exactly once, and no other number is shown.
        assert sorted((m["mark"], int(m["number"])) for m in numbered) == sorted(
            [(" ", n) for n in cf.added_lines] + [("-", n) for n in cf.removed_lines]
        ), cf.path
        for m in numbered:
            texts = cf.new_texts if m["mark"] == " " else cf.old_texts
            assert m["text"] == texts[int(m["number"])], (cf.path, m["number"])
        for n in cf.context_lines:
            assert f" {cf.new_texts[n]}" in lines, (cf.path, n, "context")
