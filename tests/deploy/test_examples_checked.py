"""Every file in examples/ is checked, so a new example cannot ship unchecked: each is a GitHub
Actions workflow (GitHub, Gitea, Forgejo: GitHub's workflow schema and zizmor) or a GitLab CI
file (GitLab's schema), and scripts/check-ci-files.sh hands each to the right checks. The
script runs here with recording stand-ins for zizmor and check-jsonschema, so this holds where
the real tools are not installed too."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.deploy.shipfiles import EXAMPLES, GITLAB_FILES, WORKFLOW_FILES, check, ci_files_tree

RECORDER = '#!/bin/sh\necho "$(basename "$0") $*" >> "$CHECK_LOG"\n'


def test_every_example_is_a_workflow_or_a_gitlab_file() -> None:
    examples = sorted(path for path in EXAMPLES.iterdir() if path.is_file())
    assert len(examples) >= 5
    for path in examples:
        kinds = [path in WORKFLOW_FILES, path in GITLAB_FILES]
        assert kinds.count(True) == 1, f"{path.name}: checked as {kinds} (workflow, GitLab)"
    assert {p.name for p in GITLAB_FILES} == {"gitlab-ci.yml"}
    assert "gitea-review.yml" in {p.name for p in WORKFLOW_FILES}


def recorded_checks(tree: Path, tmp_path: Path) -> dict[str, set[str]]:
    """Which files the script gave to each check: zizmor, the GitHub workflow schema and the
    GitLab schema."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    for tool in ("zizmor", "check-jsonschema"):
        (venv / "bin" / tool).write_text(RECORDER, encoding="utf-8")
        (venv / "bin" / tool).chmod(0o755)
    (tree / ".venv").unlink()
    (tree / ".venv").symlink_to(venv)
    log = tmp_path / "checks.log"
    done = check(tree, {**os.environ, "CHECK_LOG": str(log), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout + done.stderr
    checks: dict[str, set[str]] = {"zizmor": set(), "github": set(), "gitlab": set()}
    for line in log.read_text(encoding="utf-8").splitlines():
        words = line.split()
        files = {w for w in words if w.startswith("examples/")}
        if words[0] == "zizmor":
            checks["zizmor"] |= files
        elif "vendor.github-workflows" in words:
            checks["github"] |= files
        elif "tests/data/gitlab-ci.schema.json" in words:
            checks["gitlab"] |= files
    return checks


@pytest.mark.parametrize("new", ["examples/gitea-extra.yaml", "examples/gitlab-extra.yml"])
def test_the_ci_file_check_hands_every_example_to_its_schema(tmp_path: Path, new: str) -> None:
    (tmp_path / "tree").mkdir()
    tree = ci_files_tree(tmp_path / "tree", tmp_path / "unused")
    # A new example, of either kind, is picked up without editing the script.
    source = "gitlab-ci.yml" if "gitlab" in new else "gitea-review.yml"
    (tree / new).write_bytes((tree / "examples" / source).read_bytes())
    checks = recorded_checks(tree, tmp_path)
    examples = {f"examples/{p.name}" for p in tree.joinpath("examples").iterdir()}
    gitlab = {e for e in examples if Path(e).name.startswith("gitlab-")}
    assert checks["gitlab"] == gitlab and new in examples
    assert checks["github"] == examples - gitlab
    assert checks["zizmor"] == examples - gitlab
