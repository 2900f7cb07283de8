"""Running git: the allow-listed environment, hardened options, and git's own failure message
turned into a one-line DiffError."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from reviewer.errors import DiffError
from reviewer.security import git_env

# Options that make git's output independent of the user's and the repository's configuration
# and that keep git from running configured programs (fsmonitor hooks, pagers).
_HARDENING = (
    "-c",
    "core.quotepath=false",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "diff.suppressBlankEmpty=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.relative=false",
    "--no-pager",
)


_SKIP_PIECE = 1024 * 1024


def read_prefix(out: IO[bytes], size: int, keep: int) -> bytes:
    """The first `keep` of the next `size` bytes; the rest is read and dropped."""
    head = out.read(min(size, keep))
    left = size - len(head)
    while left > 0:
        piece = out.read(min(left, _SKIP_PIECE))
        if not piece:
            break
        left -= len(piece)
    return head


def blob_prefixes(repo: Path, names: Sequence[str], keep: int) -> dict[str, bytes]:
    """The first `keep` bytes of each blob `names` names (a sha or `<rev>:<path>`). A name
    that is missing, ambiguous or not a blob has no entry."""
    return {names[i]: data for i, data, _ in iter_blobs(repo, names, keep)}


def iter_blobs(repo: Path, names: Sequence[str], keep: int) -> Iterator[tuple[int, bytes, bool]]:
    """(index in `names`, the blob's first `keep` bytes, whether that is all of it) of each
    name that is a blob, from one streamed `git cat-file --batch`: memory stays bounded however
    large the blobs are. `--buffer`: git flushes its output when its buffer fills, not after
    every object (one write per object, thousands on a big diff, each waiting for the
    reader)."""
    if not names:
        return
    request = "".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape")
    argv = ["cat-file", "--buffer", "--batch=%(objecttype) %(objectsize)"]
    with git_stream(repo, argv, request) as out:
        for index in range(len(names)):
            fields = out.readline().rstrip(b"\n").split(b" ")
            if len(fields) != 2 or not fields[1].isdigit():  # "<name> missing" or "ambiguous"
                continue
            size = int(fields[1])
            data = read_prefix(out, size + 1, keep)  # the object, then a newline
            if fields[0] == b"blob":
                yield index, data[:size], size <= keep


def _first_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[0] if lines else "git failed"


def run_git(
    repo: Path,
    args: Sequence[str],
    *,
    stdin: bytes | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run `git args` in `repo` with the allow-listed environment. Output stays bytes: paths and
    file contents need not be UTF-8."""
    try:
        proc = subprocess.run(  # noqa: S603 - fixed executable, arguments built by us
            ["git", *_HARDENING, *args],  # noqa: S607 - git from the allow-listed PATH
            cwd=repo,
            env=git_env(),
            input=stdin,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as e:
        raise DiffError(
            "git is not installed or not on PATH", hint="install git, or use --diff-file"
        ) from e
    except NotADirectoryError as e:
        raise DiffError(f"{repo} is not a directory", hint="pass --repo PATH") from e
    if check and proc.returncode != 0:
        raise DiffError(f"git {args[0]} failed: {_first_line(proc.stderr)}")
    return proc


@contextmanager
def git_stream(repo: Path, args: Sequence[str], stdin: bytes) -> Iterator[IO[bytes]]:
    """Run `git args` with `stdin` and yield its stdout to read as it comes, so a caller that
    only needs part of the output (the first lines of many blobs) never holds all of it.
    Raises DiffError when git fails."""
    # stderr goes to a file: a pipe nobody reads while stdout is read could fill and stall git.
    with tempfile.TemporaryFile() as err:
        with _popen(repo, args, err) as proc:
            yield from _stream(proc, stdin)
        err.seek(0)
        stderr = err.read()
    if proc.returncode != 0:
        raise DiffError(f"git {args[0]} failed: {_first_line(stderr)}")


def _popen(repo: Path, args: Sequence[str], err: IO[bytes]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(  # noqa: S603 - fixed executable, arguments built by us
            ["git", *_HARDENING, *args],  # noqa: S607 - git from the allow-listed PATH
            cwd=repo,
            env=git_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    except OSError as e:
        raise DiffError(f"cannot run git: {e.strerror or e}", hint="install git") from e


def _stream(proc: subprocess.Popen[bytes], stdin: bytes) -> Iterator[IO[bytes]]:
    pipe_in, pipe_out = proc.stdin, proc.stdout
    if pipe_in is None or pipe_out is None:  # not with PIPE; for mypy
        raise DiffError("cannot run git: no pipes")
    # A writer thread: git answers while it reads, and both pipes have bounded buffers.
    writer = threading.Thread(target=_feed, args=(pipe_in, stdin), daemon=True)
    writer.start()
    try:
        yield pipe_out
        pipe_out.read()  # drain what the caller left, so git can finish
    except BaseException:
        proc.kill()  # the caller stopped reading: git (and the writer) would block forever
        raise
    finally:
        writer.join()


def _feed(pipe: IO[bytes], data: bytes) -> None:
    with suppress(BrokenPipeError, OSError):  # git stopped early: its exit status says why
        pipe.write(data)
    with suppress(BrokenPipeError, OSError):
        pipe.close()
