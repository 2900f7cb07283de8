"""A pull or merge request's diff as the fake hosts see it, parsed with unidiff from real
`git diff` output (independently of the poster): per file its paths, status, the hunks' text
and every line of the hunks with its old and new numbers, in GitLab's counting."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from unidiff import PatchSet


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk. `old`/`new` are its numbers on each side, or None on the side it
    is not on; `old_pos`/`new_pos` are GitLab's running counters (both always set), which is
    what a GitLab `line_code` is made of."""

    kind: str  # "added" | "removed" | "context"
    old: int | None
    new: int | None
    old_pos: int
    new_pos: int


@dataclass(frozen=True)
class DiffFile:
    old_path: str
    new_path: str
    status: str  # "added" | "deleted" | "renamed" | "modified"
    binary: bool
    hunks_text: str  # from the first "@@" on, as GitLab's `diff` and GitHub's `patch` hold
    lines: tuple[DiffLine, ...]
    additions: int
    deletions: int

    def line_code(self, line: DiffLine) -> str:
        return line_code(self.new_path, line.old_pos, line.new_pos)


def line_code(path: str, old_pos: int, new_pos: int) -> str:
    """GitLab's line code: the SHA-1 of the file's path, then the old and new positions."""
    return f"{hashlib.sha1(path.encode()).hexdigest()}_{old_pos}_{new_pos}"  # noqa: S324


def _strip(path: str) -> str:
    return path[2:] if path[:2] in ("a/", "b/") else path


def _hunks(block: str) -> str:
    start = block.find("\n@@")
    return block[start + 1 :] if start >= 0 else ""


def parse(diff_text: str) -> list[DiffFile]:
    """The files of a unified git diff, in order."""
    files = []
    # git's own hunk text (unidiff would rewrite `@@ -0,0 +1 @@` as `+1,1`)
    hunk_texts = [
        _hunks(block) for block in re.split(r"^(?=diff --git )", diff_text, flags=re.M) if block
    ]
    for patched in PatchSet(diff_text):
        old_path, new_path = _strip(patched.source_file), _strip(patched.target_file)
        if patched.is_added_file:
            old_path = new_path
        elif patched.is_removed_file:
            new_path = old_path
        status = (
            "added"
            if patched.is_added_file
            else "deleted"
            if patched.is_removed_file
            else "renamed"
            if old_path != new_path
            else "modified"
        )
        lines = []
        for hunk in patched:
            old_pos, new_pos = hunk.source_start, hunk.target_start
            for line in hunk:
                if line.is_added:
                    lines.append(DiffLine("added", None, new_pos, old_pos, new_pos))
                    new_pos += 1
                elif line.is_removed:
                    lines.append(DiffLine("removed", old_pos, None, old_pos, new_pos))
                    old_pos += 1
                elif line.is_context:
                    lines.append(DiffLine("context", old_pos, new_pos, old_pos, new_pos))
                    old_pos += 1
                    new_pos += 1
        text = hunk_texts.pop(0)
        files.append(
            DiffFile(
                old_path,
                new_path,
                status,
                patched.is_binary_file,
                text,
                tuple(lines),
                patched.added,
                patched.removed,
            )
        )
    return files
