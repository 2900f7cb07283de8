"""Choosing the one diff source a run uses, and the default base of a git range (the pull
request's base in GitHub Actions, else the remote's default branch)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reviewer.ci.event import EventFileError, read_event
from reviewer.diff.gitcmd import run_git
from reviewer.diff.interface import DiffSource
from reviewer.diff.sources import GitRangeSource, PatchFileSource, StagedSource, ensure_repo
from reviewer.errors import UsageError
from reviewer.settings.slices import DiffSettings


def _event_sha(environ: Mapping[str, str], side: str) -> str | None:
    """`pull_request.<side>.sha` from the Actions event file, when there is one."""
    try:
        event = read_event(environ)
    except EventFileError:
        return None  # unreadable: the defaults below apply, as outside a pull request
    return event.head_sha if side == "head" else event.base_sha


def default_head(environ: Mapping[str, str]) -> str:
    """The head when --head is not given: the pull request's head commit in Actions (the
    checkout is a merge commit, whose line numbers are not the ones a review comment names),
    else HEAD."""
    return _event_sha(environ, "head") or "HEAD"


def default_base(repo: Path, environ: Mapping[str, str]) -> str:
    """The base when --base is not given."""
    sha = _event_sha(environ, "base")
    if sha:
        return sha
    base_ref = environ.get("GITHUB_BASE_REF", "")
    if base_ref:
        return f"origin/{base_ref}"
    ensure_repo(repo)
    proc = run_git(
        repo, ["rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD"], check=False
    )
    if proc.returncode == 0:
        return "origin/HEAD"
    raise UsageError(
        "no base to diff against: --base not given, not a pull request in GitHub Actions, "
        "and origin has no default branch (refs/remotes/origin/HEAD)",
        hint="pass --base REF (for example --base main), or use --staged or --diff-file",
    )


def _check_one_source(settings: DiffSettings) -> None:
    chosen = []
    if settings.staged:
        chosen.append("--staged")
    if settings.diff_file is not None:
        chosen.append("--diff-file")
    if settings.base is not None or settings.head != "HEAD":
        chosen.append("--base/--head")
    if len(chosen) > 1:
        raise UsageError(
            f"choose one diff source, not {' and '.join(chosen)}",
            hint="a git range (--base/--head), --staged, or --diff-file PATH|-",
        )


def select_source(settings: DiffSettings, environ: Mapping[str, str]) -> DiffSource:
    """The diff source the settings ask for; UsageError for conflicting flags."""
    _check_one_source(settings)
    if settings.staged:
        return StagedSource(settings.repo, settings.context_lines)
    if settings.diff_file is not None:
        return PatchFileSource(settings.diff_file, settings.repo)
    base = settings.base or default_base(settings.repo, environ)
    head = default_head(environ) if settings.head == "HEAD" else settings.head
    return GitRangeSource(settings.repo, base, head, settings.context_lines)
