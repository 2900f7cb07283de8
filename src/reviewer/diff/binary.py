"""Binary files decided by their content, never by git attributes: `.gitattributes` comes from
the work tree, which in CI is the pull request's checkout, so `* -diff` there would make every
file "binary". The text diff is asked with `--text`, and the files found binary here are kept
out of it (with exclude pathspecs), so a large binary never reaches memory.

The rule: a blob looks binary when its first 8,000 bytes hold a NUL (git's own test). A changed
file is left out as binary only when one side also is mostly non-text (a tenth or more of
those bytes are control bytes or not UTF-8): a text file with a NUL planted in it is reviewed as
text. It is left out by policy only when it was binary at base already; a file the pull request
made binary (a new one, or text at base) is unreviewed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewer.diff.gitcmd import blob_prefixes, run_git
from reviewer.diff.parse import decode_diff
from reviewer.models import FileDiff, FileStatus

SAMPLE_BYTES = 8000  # what git itself looks at (xdiff's FIRST_FEW_BYTES)
NON_TEXT_SHARE = 0.1
_NULL_SHA = "0" * 40
_SUBMODULE = "160000"
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")


@dataclass(frozen=True)
class RawEntry:
    """One line of `git diff --raw -z`."""

    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: str  # A, D, M, T, R
    old_path: str
    new_path: str


def raw_entries(repo: Path, args: Sequence[str]) -> list[RawEntry]:
    """`git diff --raw -z` with `args` (the same renames as the text diff)."""
    out = run_git(repo, ["diff", "--raw", "-z", "--no-abbrev", "--find-renames", *args]).stdout
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    entries, i = [], 0
    while i < len(fields) - 1:
        meta = fields[i].lstrip(":").split(" ")
        status = meta[4][:1]
        two = status in ("R", "C")
        old, new = fields[i + 1], fields[i + 2] if two else fields[i + 1]
        entries.append(RawEntry(meta[0], meta[1], meta[2], meta[3], status, old, new))
        i += 3 if two else 2
    return entries


def _looks_binary(sample: bytes) -> bool:
    return b"\0" in sample


def _mostly_non_text(sample: bytes) -> bool:
    text = decode_diff(sample)
    return len(_CONTROL.findall(text)) >= NON_TEXT_SHARE * max(1, len(text))


def _samples(repo: Path, shas: Iterable[str]) -> dict[str, bytes]:
    """The first SAMPLE_BYTES of each blob."""
    return blob_prefixes(repo, sorted(set(shas)), SAMPLE_BYTES)


@dataclass(frozen=True)
class BinaryFiles:
    files: tuple[FileDiff, ...]  # left out of the text diff
    at_base: frozenset[str]  # head paths of those binary at base already

    def excludes(self) -> list[str]:
        """Pathspecs that keep these files (both names of a rename) out of the text diff."""
        paths = {p for f in self.files for p in (f.path, f.old_path) if p is not None}
        return [f":(top,exclude,literal){p}" for p in sorted(paths)]


def _file(entry: RawEntry) -> FileDiff:
    status = {
        "A": FileStatus.ADDED,
        "D": FileStatus.DELETED,
        "R": FileStatus.RENAMED,
        "C": FileStatus.COPIED,
    }.get(entry.status, FileStatus.MODIFIED)
    return FileDiff(
        path=entry.old_path if status is FileStatus.DELETED else entry.new_path,
        old_path=None if status is FileStatus.ADDED else entry.old_path,
        status=status,
        is_binary=True,
        old_mode=None if entry.old_mode == "000000" else entry.old_mode,
        new_mode=None if entry.new_mode == "000000" else entry.new_mode,
    )


def find_binary(repo: Path, entries: Sequence[RawEntry]) -> BinaryFiles:
    """The changed files whose content is binary (the rule in the module docstring)."""
    blobs = [
        e for e in entries if _SUBMODULE not in (e.old_mode, e.new_mode)
    ]
    samples = _samples(
        repo, (sha for e in blobs for sha in (e.old_sha, e.new_sha) if sha != _NULL_SHA)
    )
    files, at_base = [], set()
    for e in blobs:
        old, new = samples.get(e.old_sha, b""), samples.get(e.new_sha, b"")
        binary = any(_looks_binary(s) and _mostly_non_text(s) for s in (old, new))
        if not binary:
            continue
        f = _file(e)
        files.append(f)
        if e.old_sha != _NULL_SHA and _looks_binary(old):
            at_base.add(f.path)
    return BinaryFiles(files=tuple(files), at_base=frozenset(at_base))


def git_at_least(repo: Path, major: int, minor: int) -> bool:
    out = run_git(repo, ["version"]).stdout.decode("ascii", "replace")
    found = re.search(r"(\d+)\.(\d+)", out)
    return found is not None and (int(found[1]), int(found[2])) >= (major, minor)
