"""Running git: the allow-listed environment, hardened options, and git's own failure message
turned into a one-line DiffError."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

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
