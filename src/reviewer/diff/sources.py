"""The three diff sources: a git range (like a pull request, `base...head`), the index
(`--staged`) and a patch file or stdin (`--diff-file`)."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from reviewer.ci.environment import Host, fetch_hint
from reviewer.diff.binary import BinaryFiles, find_binary, git_at_least, raw_entries
from reviewer.diff.gitcmd import iter_blobs, run_git
from reviewer.diff.interface import Blobs, RawDiff
from reviewer.diff.parse import decode_diff
from reviewer.errors import ConfigError, DiffError
from reviewer.settings.config import DEFAULT_CONTEXT_LINES

# How `git diff` is asked for the diff: stable, machine-readable, no configured programs.
DIFF_OPTIONS = (
    "diff",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--find-renames",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--submodule=short",
    "--ignore-submodules=none",
    "--inter-hunk-context=0",
    "--no-relative",
)


def diff_options(context_lines: int) -> tuple[str, ...]:
    """DIFF_OPTIONS with `context_lines` unchanged lines around each change (and hunks merged
    only when their context would overlap, as git does by default)."""
    return (*DIFF_OPTIONS, f"--unified={context_lines}")


def ensure_repo(repo: Path) -> None:
    """DiffError unless `repo` is inside a git repository."""
    if not repo.is_dir():
        raise DiffError(f"{repo} is not a directory", hint="pass --repo PATH, or use --diff-file")
    proc = run_git(repo, ["rev-parse", "--git-dir"], check=False)
    if proc.returncode != 0:
        raise DiffError(
            f"{repo} is not a git repository",
            hint="pass --repo PATH of a git checkout, or use --diff-file",
        )


def resolve_commit(repo: Path, ref: str, how_to_fetch: str = fetch_hint(Host.NONE)) -> str:
    """The commit sha `ref` names, or a DiffError naming the unknown ref (its hint says how
    the CI at hand fetches a missing commit)."""
    proc = run_git(
        repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        check=False,
    )
    if proc.returncode != 0:
        raise DiffError(
            f"unknown ref {ref!r} in {repo}",
            hint=f"check the name; in CI fetch it ({how_to_fetch})",
        )
    return proc.stdout.decode("ascii").strip()


# Only the first lines of a blob are needed; the rest is read past, never kept.
HEAD_BYTES = 64 * 1024


def _heads(repo: Path, prefix: str, paths: Sequence[str], lines: int) -> dict[str, str]:
    """First lines of the blobs `<prefix><path>`, from one streamed `git cat-file --batch`."""
    return {
        path: "\n".join(decode_diff(blob).split("\n")[:lines]).rstrip("\n")
        for _, path, blob, _ in _blobs(repo, [(prefix, p) for p in paths], HEAD_BYTES)
    }


def _blobs(
    repo: Path, names: Sequence[tuple[str, str]], keep: int
) -> Iterator[tuple[int, str, bytes, bool]]:
    """(index in `names`, path, its first `keep` bytes, whether that is all of it) of each blob
    `<prefix><path>`, from one streamed `git cat-file --batch`: memory stays bounded however
    large the files are (git blobs, never the work tree, so a symlink is its target's name and
    is not followed). Names that are no blob are left out."""
    # The batch protocol is line-based and git drops a CR before the newline: a name with a
    # newline, or ending in CR, would name another file. Those fall back to the diff's lines.
    wanted = [
        (i, pre, p) for i, (pre, p) in enumerate(names) if "\n" not in p and not p.endswith("\r")
    ]
    if not wanted:
        return
    blobs = iter_blobs(repo, [f"{pre}{p}" for _, pre, p in wanted], keep)
    for at, blob, whole in blobs:
        index, _, path = wanted[at]
        yield index, path, blob, whole


def _sides(
    repo: Path, head: tuple[str, Sequence[str]], base: tuple[str, Sequence[str]], keep: int
) -> Blobs:
    """The head side's blobs, then the base side's, from one `git cat-file --batch`."""
    names = [(head[0], p) for p in head[1]] + [(base[0], p) for p in base[1]]
    return (
        (index >= len(head[1]), path, blob, whole)
        for index, path, blob, whole in _blobs(repo, names, keep)
    )


def _text_diff(
    repo: Path, args: Sequence[str], context_lines: int, base: str | None
) -> tuple[str, BinaryFiles]:
    """The text diff for `git diff args`, with binary files decided by content (diff/binary.py)
    and kept out of it, so no git attribute (read from the pull request's work tree) decides
    what is text. On git 2.40 and later the other attributes are pinned to the base tree."""
    binary = find_binary(repo, raw_entries(repo, args))
    pin = [f"--attr-source={base}"] if base and git_at_least(repo, 2, 40) else []
    argv = [*pin, *diff_options(context_lines), "--text", *args, "--", *binary.excludes()]
    if binary.files:
        argv.append(":/")  # exclude pathspecs alone would mean "everything under the cwd"
    return decode_diff(run_git(repo, argv).stdout), binary


def _inside_repo(repo: Path, path: Path) -> str | None:
    """`path` relative to the repository's top level when it lies inside it (by its name, not
    by following links the pull request could plant), else None."""
    top = run_git(repo, ["rev-parse", "--show-toplevel"]).stdout
    root = Path(top.decode("utf-8", "surrogateescape").strip())
    candidate = Path(os.path.abspath(path))
    for r in {root, Path(os.path.abspath(repo)), root.resolve()}:
        if candidate.is_relative_to(r):
            return candidate.relative_to(r).as_posix()
    return None


def _read_config_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read --config {path}: {e}") from e


class GitRangeSource:
    """The diff from the merge base of `base` and `head` to `head`, as a pull request shows."""

    def __init__(
        self,
        repo: Path,
        base: str,
        head: str,
        context_lines: int = DEFAULT_CONTEXT_LINES,
        *,
        fetch_hint: str = fetch_hint(Host.NONE),
        resolved: tuple[str, str] | None = None,
    ) -> None:
        """`resolved`: the commits `base` and `head` name, when the caller has resolved them
        already (diff/select.py does, to refuse an empty range): git is not asked again."""
        self.repo, self.base, self.head = repo, base, head
        self.context_lines = context_lines
        self.fetch_hint = fetch_hint  # how this CI fetches a missing commit
        self._base_sha: str | None = resolved[0] if resolved else None
        self._head_sha: str | None = resolved[1] if resolved else None
        self._merge_base: str | None = None

    def read(self) -> RawDiff:
        if self._base_sha is None or self._head_sha is None:
            ensure_repo(self.repo)
            self._base_sha = resolve_commit(self.repo, self.base, self.fetch_hint)
            self._head_sha = resolve_commit(self.repo, self.head, self.fetch_hint)
        base_sha, head_sha = self._base_sha, self._head_sha
        proc = run_git(self.repo, ["merge-base", base_sha, head_sha], check=False)
        if proc.returncode != 0:
            raise DiffError(
                f"{self.base!r} and {self.head!r} have no common ancestor",
                hint=f"fetch the full history ({self.fetch_hint})",
            )
        merge_base = proc.stdout.decode("ascii").strip()
        self._merge_base = merge_base
        text, binary = _text_diff(self.repo, [merge_base, head_sha], self.context_lines, merge_base)
        return RawDiff(
            text=text,
            base=merge_base,
            head=head_sha,
            label=f"{self.base}...{self.head}",
            binary_files=binary.files,
            binary_at_base=binary.at_base,
        )

    def config_text(self, name: str) -> str | None:
        # From the base branch's tip: a pull request cannot change how it is itself reviewed.
        base = self._base_sha or resolve_commit(self.repo, self.base)
        proc = run_git(self.repo, ["cat-file", "blob", f"{base}:{name}"], check=False)
        return decode_diff(proc.stdout) if proc.returncode == 0 else None

    def file_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        head = self._head_sha or resolve_commit(self.repo, self.head)
        return _heads(self.repo, f"{head}:", paths, lines)

    def base_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        # The merge base: the old side of the diff the files are judged by.
        base = self._merge_base or self._base_sha or resolve_commit(self.repo, self.base)
        return _heads(self.repo, f"{base}:", paths, lines)

    def file_blobs(self, head: Sequence[str], base: Sequence[str], keep: int) -> Blobs | None:
        head_sha = self._head_sha or resolve_commit(self.repo, self.head)
        base_sha = self._merge_base or self._base_sha or resolve_commit(self.repo, self.base)
        return _sides(self.repo, (f"{head_sha}:", head), (f"{base_sha}:", base), keep)

    def explicit_config(self, path: Path) -> str:
        # Inside the repository the work tree is the pull request's checkout: read the file
        # from the base branch's tip, as the default config files are.
        inside = _inside_repo(self.repo, path)
        if inside is None:
            return _read_config_file(path)
        base = self._base_sha or resolve_commit(self.repo, self.base)
        proc = run_git(self.repo, ["cat-file", "blob", f"{base}:{inside}"], check=False)
        if proc.returncode != 0:
            raise ConfigError(
                f"--config {path} is read from the base revision {base[:12]}, "
                f"which has no {inside}",
                hint="commit the config file to the base branch first, or pass a path "
                "outside the repository",
            )
        return decode_diff(proc.stdout)


def _worktree_config(root: Path, name: str) -> str | None:
    path = root / name
    try:
        return decode_diff(path.read_bytes()) if path.is_file() else None
    except OSError:
        return None


class StagedSource:
    """The index against HEAD: what `git commit` would record."""

    def __init__(self, repo: Path, context_lines: int = DEFAULT_CONTEXT_LINES) -> None:
        self.repo, self.context_lines = repo, context_lines

    def read(self) -> RawDiff:
        ensure_repo(self.repo)
        proc = run_git(self.repo, ["rev-parse", "--verify", "--quiet", "HEAD"], check=False)
        base = proc.stdout.decode("ascii").strip() if proc.returncode == 0 else None
        # Without a HEAD (the first commit) git diffs the index against the empty tree.
        text, binary = _text_diff(self.repo, ["--cached"], self.context_lines, base)
        return RawDiff(
            text=text,
            base=base,
            head=None,
            label="staged changes",
            binary_files=binary.files,
            binary_at_base=binary.at_base,
        )

    def _root(self) -> Path:
        out = run_git(self.repo, ["rev-parse", "--show-toplevel"]).stdout
        return Path(out.decode("utf-8", "surrogateescape").strip())

    def config_text(self, name: str) -> str | None:
        return _worktree_config(self._root(), name)

    def file_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        # ":0:path" is the staged blob; plain ":path" would read a file named "1:x" as stage 1
        # of "x", another file's content.
        return _heads(self.repo, ":0:", paths, lines)

    def base_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        return _heads(self.repo, "HEAD:", paths, lines)

    def file_blobs(self, head: Sequence[str], base: Sequence[str], keep: int) -> Blobs | None:
        return _sides(self.repo, (":0:", head), ("HEAD:", base), keep)

    def explicit_config(self, path: Path) -> str:
        return _read_config_file(path)  # the developer's own machine: the work tree


# The most a patch file or stdin may hold. A 200,000-line diff is about 12 MB, and planning
# holds a few copies of it; this is 20 times that, and reading stops at it, so /dev/zero or a
# 10 GB file cannot fill memory.
MAX_DIFF_BYTES = 256 * 1024 * 1024
_READ_PIECE = 1024 * 1024


def _read_at_most(stream: IO[bytes], limit: int) -> bytes | None:
    """All of `stream`, or None as soon as it holds more than `limit` bytes."""
    with contextlib.suppress(OSError, ValueError):
        st = os.fstat(stream.fileno())
        if stat.S_ISREG(st.st_mode) and st.st_size > limit:
            return None  # a regular file says its size: refuse without reading it
    data = bytearray()
    while piece := stream.read(min(_READ_PIECE, limit + 1 - len(data))):
        data += piece
        if len(data) > limit:
            return None
    return bytes(data)


class PatchFileSource:
    """A unified diff from a file or stdin ("-"), of at most MAX_DIFF_BYTES. No repository
    needed."""

    def __init__(self, path: str, config_dir: Path) -> None:
        self.path, self.config_dir = path, config_dir

    def read(self) -> RawDiff:
        label = "stdin" if self.path == "-" else self.path
        try:
            if self.path == "-":
                data = _read_at_most(sys.stdin.buffer, MAX_DIFF_BYTES)
            else:
                with open(self.path, "rb") as f:
                    data = _read_at_most(f, MAX_DIFF_BYTES)
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise DiffError(
                f"cannot read --diff-file {label}: {reason}",
                hint="pass a readable file, or - to read the diff from stdin",
            ) from e
        if data is None:
            raise DiffError(
                f"--diff-file {label} is larger than {MAX_DIFF_BYTES // 2**20} MiB, the most "
                "a review reads",
                hint="review a smaller range, or split the patch into several reviews",
            )
        return RawDiff(text=decode_diff(data), label=label)

    def config_text(self, name: str) -> str | None:
        return _worktree_config(self.config_dir, name)

    def file_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        return None

    def base_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        return None

    def file_blobs(self, head: Sequence[str], base: Sequence[str], keep: int) -> Blobs | None:
        return None  # no tree: hunks keep git's own section text

    def explicit_config(self, path: Path) -> str:
        return _read_config_file(path)
