"""The three diff sources: a git range (like a pull request, `base...head`), the index
(`--staged`) and a patch file or stdin (`--diff-file`)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from reviewer.config import DEFAULT_CONTEXT_LINES
from reviewer.diff.gitcmd import git_stream, run_git
from reviewer.diff.interface import RawDiff
from reviewer.diff.parse import decode_diff
from reviewer.errors import DiffError

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


def resolve_commit(repo: Path, ref: str) -> str:
    """The commit sha `ref` names, or a DiffError naming the unknown ref."""
    proc = run_git(
        repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
        check=False,
    )
    if proc.returncode != 0:
        raise DiffError(
            f"unknown ref {ref!r} in {repo}",
            hint="check the name; in CI fetch it (actions/checkout with fetch-depth: 0)",
        )
    return proc.stdout.decode("ascii").strip()


# Only the first lines of a blob are needed; the rest is read past, never kept.
HEAD_BYTES = 64 * 1024
_SKIP_PIECE = 1024 * 1024


def _heads(repo: Path, prefix: str, paths: Sequence[str], lines: int) -> dict[str, str]:
    """First lines of the blobs `<prefix><path>`, from one streamed `git cat-file --batch`:
    memory stays bounded however large the files are (git blobs, never the work tree, so a
    symlink is its target's name and is not followed)."""
    # The batch protocol is line-based and git drops a CR before the newline: a name with a
    # newline, or ending in CR, would name another file. Those fall back to the diff's lines.
    wanted = [p for p in paths if "\n" not in p and not p.endswith("\r")]
    if not wanted:
        return {}
    request = "".join(f"{prefix}{p}\n" for p in wanted).encode("utf-8", "surrogateescape")
    result: dict[str, str] = {}
    with git_stream(repo, ["cat-file", "--batch=%(objecttype) %(objectsize)"], request) as out:
        for path in wanted:
            fields = out.readline().rstrip(b"\n").split(b" ")
            if len(fields) != 2 or not fields[1].isdigit():  # "<name> missing" or "ambiguous"
                continue
            blob = _read_head(out, int(fields[1]) + 1)  # the object, then a newline
            if fields[0] == b"blob":
                result[path] = "\n".join(decode_diff(blob).split("\n")[:lines]).rstrip("\n")
    return result


def _read_head(out: IO[bytes], size: int) -> bytes:
    """The first HEAD_BYTES of the next `size` bytes; the rest is read and dropped."""
    head = out.read(min(size, HEAD_BYTES))
    left = size - len(head)
    while left > 0:
        piece = out.read(min(left, _SKIP_PIECE))
        if not piece:
            break
        left -= len(piece)
    return head


class GitRangeSource:
    """The diff from the merge base of `base` and `head` to `head`, as a pull request shows."""

    def __init__(
        self, repo: Path, base: str, head: str, context_lines: int = DEFAULT_CONTEXT_LINES
    ) -> None:
        self.repo, self.base, self.head = repo, base, head
        self.context_lines = context_lines
        self._base_sha: str | None = None
        self._head_sha: str | None = None

    def read(self) -> RawDiff:
        ensure_repo(self.repo)
        base_sha = resolve_commit(self.repo, self.base)
        head_sha = resolve_commit(self.repo, self.head)
        self._base_sha, self._head_sha = base_sha, head_sha
        proc = run_git(self.repo, ["merge-base", base_sha, head_sha], check=False)
        if proc.returncode != 0:
            raise DiffError(
                f"{self.base!r} and {self.head!r} have no common ancestor",
                hint="fetch the full history (actions/checkout with fetch-depth: 0)",
            )
        merge_base = proc.stdout.decode("ascii").strip()
        argv = [*diff_options(self.context_lines), merge_base, head_sha]
        text = decode_diff(run_git(self.repo, argv).stdout)
        return RawDiff(
            text=text, base=merge_base, head=head_sha, label=f"{self.base}...{self.head}"
        )

    def config_text(self, name: str) -> str | None:
        # From the base branch's tip: a pull request cannot change how it is itself reviewed.
        base = self._base_sha or resolve_commit(self.repo, self.base)
        proc = run_git(self.repo, ["cat-file", "blob", f"{base}:{name}"], check=False)
        return decode_diff(proc.stdout) if proc.returncode == 0 else None

    def file_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        head = self._head_sha or resolve_commit(self.repo, self.head)
        return _heads(self.repo, f"{head}:", paths, lines)


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
        argv = [*diff_options(self.context_lines), "--cached"]
        text = decode_diff(run_git(self.repo, argv).stdout)
        return RawDiff(text=text, base=base, head=None, label="staged changes")

    def _root(self) -> Path:
        out = run_git(self.repo, ["rev-parse", "--show-toplevel"]).stdout
        return Path(out.decode("utf-8", "surrogateescape").strip())

    def config_text(self, name: str) -> str | None:
        return _worktree_config(self._root(), name)

    def file_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        # ":0:path" is the staged blob; plain ":path" would read a file named "1:x" as stage 1
        # of "x", another file's content.
        return _heads(self.repo, ":0:", paths, lines)


class PatchFileSource:
    """A unified diff from a file or stdin ("-"). No repository needed."""

    def __init__(self, path: str, config_dir: Path) -> None:
        self.path, self.config_dir = path, config_dir

    def read(self) -> RawDiff:
        label = "stdin" if self.path == "-" else self.path
        try:
            data = sys.stdin.buffer.read() if self.path == "-" else Path(self.path).read_bytes()
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise DiffError(
                f"cannot read --diff-file {label}: {reason}",
                hint="pass a readable file, or - to read the diff from stdin",
            ) from e
        return RawDiff(text=decode_diff(data), label=label)

    def config_text(self, name: str) -> str | None:
        return _worktree_config(self.config_dir, name)

    def file_heads(self, paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
        return None
