"""The change's intent, gathered for a git range: the pull or merge request's title and
description from the CI environment (ci/environment.py), and the commit subjects of the range
from git. The author writes all of it: it is rendered as untrusted data (chunks/intent.py)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from reviewer.chunks.intent import MAX_SUBJECTS, render_intent
from reviewer.ci.environment import CiContext
from reviewer.diff.gitcmd import run_git
from reviewer.diff.parse import decode_diff
from reviewer.diff.select import ci_context
from reviewer.errors import UsageError


def commit_subjects(repo: Path, base: str, head: str) -> tuple[list[str], int]:
    """The subjects of the commits in base..head, newest first, at most MAX_SUBJECTS, and the
    number of commits past them (merge commits left out: their subjects say nothing)."""
    argv = ["log", "--no-merges", "--format=%s", f"--max-count={MAX_SUBJECTS}", f"{base}..{head}"]
    proc = run_git(repo, argv, check=False)
    if proc.returncode != 0:
        return [], 0
    subjects = decode_diff(proc.stdout).splitlines()
    if len(subjects) < MAX_SUBJECTS:
        return subjects, 0
    count = run_git(repo, ["rev-list", "--no-merges", "--count", f"{base}..{head}"], check=False)
    total = int(count.stdout.strip() or 0) if count.returncode == 0 else len(subjects)
    return subjects, max(0, total - len(subjects))


def gather_intent(repo: Path, base: str, head: str, environ: Mapping[str, str]) -> str:
    """The rendered intent of the range base..head (commit shas), or "" when there is none."""
    try:
        ci = ci_context(environ)
    except UsageError:
        # A bad CI variable fails a run that takes its range from CI (diff/select.py); with
        # --base and --head given, detection is skipped, and so is the request's text.
        ci = CiContext()
    subjects, more = commit_subjects(repo, base, head)
    return render_intent(ci.title, ci.description, subjects, more)
