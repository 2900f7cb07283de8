"""Choosing the one diff source a run uses, and the default range of a git range: the pull or
merge request's base and head as the CI environment says them (ci/environment.py), else the
remote's default branch and HEAD."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reviewer.ci.environment import CiContext, detect, fetch_hint, host_of
from reviewer.diff.gitcmd import run_git
from reviewer.diff.interface import DiffSource
from reviewer.diff.sources import (
    GitRangeSource,
    PatchFileSource,
    StagedSource,
    ensure_repo,
    resolve_commit,
)
from reviewer.errors import UsageError
from reviewer.settings.slices import DiffSettings


def ci_context(environ: Mapping[str, str]) -> CiContext:
    """What the CI environment says about the range. An event file that cannot be read is
    passed over (the defaults below apply, as outside a pull request); `reviewer post`, which
    would act on it, refuses it instead."""
    return detect(environ, strict_event=False)


def default_head(environ: Mapping[str, str]) -> str:
    """The head when --head is not given: the request's own head commit in CI (the checkout
    may be a merge commit, GitHub's or GitLab's merged results, whose line numbers are not the
    ones a review comment names), else HEAD."""
    return ci_context(environ).head_sha or "HEAD"


def default_base(repo: Path, environ: Mapping[str, str]) -> str:
    """The base when --base is not given."""
    ci = ci_context(environ)
    if ci.base_sha:
        return ci.base_sha
    if ci.base_branch:
        return f"origin/{ci.base_branch}"
    ensure_repo(repo)
    proc = run_git(
        repo, ["rev-parse", "--verify", "--quiet", "refs/remotes/origin/HEAD"], check=False
    )
    if proc.returncode == 0:
        return "origin/HEAD"
    raise UsageError(
        "no base to diff against: --base not given, not a pull or merge request in CI, "
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
    hint = fetch_hint(host_of(environ))
    defaulted = settings.base is None
    shas = check_distinct(settings.repo, base, head, defaulted=defaulted, fetch_hint=hint)
    return GitRangeSource(
        settings.repo, base, head, settings.context_lines, fetch_hint=hint, resolved=shas
    )


def check_distinct(
    repo: Path, base: str, head: str, *, defaulted: bool, fetch_hint: str
) -> tuple[str, str]:
    """The commits `base` and `head` name. A range whose base is its head reviews nothing, and
    a "complete, no findings" document would claim otherwise: a usage error naming what to
    pass. (Different commits with an empty diff between them, such as a merge, are a real,
    empty review.)"""
    ensure_repo(repo)
    sha = resolve_commit(repo, base, fetch_hint)
    head_sha = resolve_commit(repo, head, fetch_hint)
    if head_sha != sha:
        return sha, head_sha
    if defaulted:
        hint = (
            "pass --base REF, the branch the change is to be merged into (for example --base "
            "main with your branch checked out); in CI run on a pull request, whose base is "
            "the default: a push to the default branch has nothing to review against"
        )
    else:
        hint = "pass a --base that is not --head's commit, for example the branch it merges into"
    raise UsageError(
        f"base {base!r} and head {head!r} are the same commit ({sha[:12]}): nothing to review",
        hint=hint,
    )
