"""The diff-source contract: every source yields the raw diff text plus what the filters and
the config loader need to know about the repository it came from."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from reviewer.models import FileDiff, Frozen


class RawDiff(Frozen):
    """A unified diff as text, and the commits it is between when it came from git."""

    text: str
    base: str | None = None  # the commit the diff starts from (the merge base for a range)
    head: str | None = None  # the head commit; None for the index or a patch file
    label: str = ""  # what was diffed, for messages ("origin/main...HEAD", "staged changes")
    # Files kept out of the text diff because their content is binary (diff/binary.py), and
    # the head paths of those that were binary at base already.
    binary_files: tuple[FileDiff, ...] = ()
    binary_at_base: frozenset[str] | None = None  # None: unknown (a patch file)


# (whether at base, path, the blob's first bytes, whether that is all of it), one per blob read.
Blobs = Iterator[tuple[bool, str, bytes, bool]]


class DiffSource(Protocol):
    """Where a diff comes from: a git range, the index, or a patch file."""

    def read(self) -> RawDiff:
        """The diff. Raises DiffError when it cannot be obtained."""
        ...

    def config_text(self, name: str) -> str | None:
        """The text of the repository config file `name` (`.reviewer.toml`, `pyproject.toml`)
        from the trusted revision (the base, for a git range), or None when it has none."""
        ...

    def file_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        """The first `lines` lines of each file as it is after the change, or None when the
        source has no files to read (a patch file: only the diff is known)."""
        ...

    def base_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        """The same for the files (by their old paths) as they were before the change."""
        ...

    def file_blobs(self, head: Sequence[str], base: Sequence[str], keep: int) -> Blobs | None:
        """The first `keep` bytes of each file in `head` as it is after the change and of each
        in `base` (old paths) as it was before, from one git process, streamed one at a time;
        None when the source has no files to read (a patch file)."""
        ...

    def explicit_config(self, path: Path) -> str:
        """The text of --config PATH from where this source trusts it (a git range: the base
        revision for a path inside the repository). Raises ConfigError."""
        ...
