"""Real repositories with one changed file, planned by build_plan, and the hunk headers of the
chunks it makes."""

from __future__ import annotations

import re
from pathlib import Path

from reviewer.models import ReviewPlan
from reviewer.plan.build import build_plan
from reviewer.settings.slices import DiffSettings, PlanSettings
from tests.diff.gitrepo_helpers import GitRepo

HEADER = re.compile(r"^@@ ?(.*)$", re.M)


def two_commits(root: Path, base: dict[str, str], head: dict[str, str | None]) -> GitRepo:
    """A repository whose HEAD~1 holds `base` and HEAD `head` on top (None deletes a file)."""
    repo = GitRepo(root)
    for path, text in base.items():
        repo.write(path, text)
    repo.commit("base")
    for path, new in head.items():
        if new is None:
            repo.remove(path)
        else:
            repo.write(path, new)
    repo.commit("head")
    return repo


def plan_of(
    root: Path, *, definitions: bool = True, num_ctx: int = 8192, **diff: object
) -> ReviewPlan:
    where = {"base": "HEAD~1", "head": "HEAD"} if not diff else {}
    settings = DiffSettings(repo=root, definitions=definitions, **where, **diff)  # type: ignore[arg-type]
    return build_plan(
        settings, PlanSettings(no_description=True), environ={}, num_ctx=num_ctx, num_predict=256
    )


def sections(plan: ReviewPlan) -> list[str]:
    """The section text of every hunk header of every chunk, in order."""
    return [m.group(1) for c in plan.chunks for m in HEADER.finditer(c.text)]
