"""`reviewer run` in each host's CI, through the real CLI in a subprocess over a real git
repository: the range is the request's own (GitLab merge request and merged-results pipelines,
Gitea/Forgejo Actions), never the merge commit CI checked out; the config comes from the base
revision although the pull request rewrites it; a missing commit is `unknown ref` with the
host's own hint; a bad variable is one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewer.errors import ExitCode
from tests.diff.gitrepo_helpers import GIT_ENV, GitRepo

APP = "".join(f"line{i} = {i}\n" for i in range(1, 6))


@dataclass(frozen=True)
class Pull:
    repo: GitRepo
    fork: str  # where feature left main
    main: str  # main's tip, which moved on: three lines prepended to app.py
    feature: str  # the request's head: app.py's line 5 changed, docs added, config rewritten
    merged: str  # main merged with feature, as GitLab's merged results and actions/checkout make


@pytest.fixture
def pull(tmp_path: Path) -> Pull:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app.py", APP)
    repo.write(".reviewer.toml", "exclude = ['docs/**']\n")
    fork = repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("app.py", APP.replace("line5 = 5", "line5 = 'changed'"))
    repo.write("docs/x.md", "doc\n")
    # The author's attempt to decide their own review: exclude everything.
    repo.write(".reviewer.toml", "exclude = ['**']\n")
    feature = repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("app.py", "top1 = 1\ntop2 = 2\ntop3 = 3\n" + APP)
    main = repo.commit("main moves on")
    repo.git("checkout", "-q", "--detach", main)
    repo.git("merge", "-q", "--no-edit", "feature")
    merged = repo.git("rev-parse", "HEAD").decode().strip()
    return Pull(repo, fork, main, feature, merged)


def run(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real CLI with only `env` (and what git needs): nothing of this test's own CI."""
    base = {"PATH": os.environ["PATH"], "HOME": GIT_ENV["HOME"], "LANG": "C.UTF-8"}
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--repo", str(repo), *args],
        env={**base, **env}, capture_output=True, text=True, timeout=120, check=False,
    )


def plan(repo: Path, env: dict[str, str]) -> dict[str, object]:
    proc = run(repo, env, "--dry-run", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def gitlab(p: Pull, kind: str) -> dict[str, str]:
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_API_V4_URL": "https://gitlab.example.org/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_PROJECT_PATH": "group/project",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": p.fork,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_EVENT_TYPE": kind,
        "CI_JOB_TOKEN": "glcbt-" + "x" * 20,  # scrubbed: it must not matter
    }
    if kind == "detached":
        return {**env, "CI_COMMIT_SHA": p.feature}
    return {
        **env,
        "CI_COMMIT_SHA": p.merged,
        "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": p.feature,
        "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": p.main,
    }


def gitea(p: Pull, tmp_path: Path, *, forgejo: bool = False) -> dict[str, str]:
    event = tmp_path / "event.json"
    pull = {"number": 3, "base": {"sha": p.main}, "head": {"sha": p.feature}}
    event.write_text(json.dumps({"pull_request": pull}))
    env = {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITEA_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://gitea.example.org",
        "GITHUB_API_URL": "https://gitea.example.org/api/v1",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_BASE_REF": "main",
        "GITHUB_EVENT_PATH": str(event),
    }
    return {**env, "FORGEJO_ACTIONS": "true"} if forgejo else env


def assert_the_requests_own_range_by_the_base_config(p: Pull, result: dict[str, object]) -> None:
    assert result["head"] == p.feature != p.merged
    assert result["base"] == p.fork
    files = {f["path"]: f for f in result["files"]}  # type: ignore[attr-defined]
    # The base config excludes docs/ only: the PR's `exclude = ['**']` is not obeyed.
    assert set(files) == {"app.py", ".reviewer.toml"}
    assert [(s["path"], s["policy"]) for s in result["skipped"]] == [  # type: ignore[attr-defined]
        ("docs/x.md", True)
    ]
    # Line 5 of the request's head, not line 8 of the merged-results commit.
    chunk_files = [f for c in result["chunks"] for f in c["files"]]  # type: ignore[attr-defined]
    assert [f["added_lines"] for f in chunk_files if f["path"] == "app.py"] == [[5]]


@pytest.mark.parametrize("kind", ["detached", "merged_result", "merge_train"])
def test_gitlab_reviews_the_merge_requests_head_by_the_base_config(pull: Pull, kind: str) -> None:
    pull.repo.git("checkout", "-q", "--detach", pull.feature if kind == "detached" else pull.merged)
    assert_the_requests_own_range_by_the_base_config(pull, plan(pull.repo.root, gitlab(pull, kind)))


@pytest.mark.parametrize("forgejo", [False, True])
def test_gitea_reviews_the_pull_requests_head_by_the_base_config(
    pull: Pull, tmp_path: Path, forgejo: bool
) -> None:
    env = gitea(pull, tmp_path, forgejo=forgejo)  # the checkout is the merge commit
    assert_the_requests_own_range_by_the_base_config(pull, plan(pull.repo.root, env))


def test_a_merged_results_pipeline_without_the_source_head_reviews_nothing(pull: Pull) -> None:
    env = gitlab(pull, "merged_result")
    del env["CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"]
    proc = run(pull.repo.root, env, "--dry-run")
    assert proc.returncode == ExitCode.USAGE, proc.stdout
    assert "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA is not set" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2
    assert "Files to review" not in proc.stdout


def test_a_bad_variable_is_one_line_and_explicit_refs_skip_detection(pull: Pull) -> None:
    env = {**gitlab(pull, "detached"), "CI_MERGE_REQUEST_DIFF_BASE_SHA": "main~1"}
    proc = run(pull.repo.root, env, "--dry-run")
    assert proc.returncode == ExitCode.USAGE
    assert proc.stderr.startswith("reviewer: error: CI_MERGE_REQUEST_DIFF_BASE_SHA='main~1'")
    assert len(proc.stderr.strip().splitlines()) <= 2
    explicit = run(pull.repo.root, env, "--dry-run", "--base", pull.fork, "--head", pull.feature)
    assert explicit.returncode == 0, explicit.stderr


@pytest.mark.parametrize(("host", "hint"), [("gitlab", "GIT_DEPTH: 0"), ("gitea", "fetch-depth: 0")])
def test_a_shallow_clone_is_unknown_ref_with_the_hosts_hint(
    pull: Pull, tmp_path: Path, host: str, hint: str
) -> None:
    # What CI clones by default: the head only (GitLab's GIT_DEPTH, actions/checkout's depth 1).
    clone = tmp_path / "shallow"
    pull.repo.git("clone", "-q", "--depth", "1", "--branch", "feature",
                  f"file://{pull.repo.root}", str(clone))
    env = gitlab(pull, "detached") if host == "gitlab" else gitea(pull, tmp_path)
    proc = run(clone, env, "--dry-run")
    assert proc.returncode == ExitCode.USAGE, proc.stdout
    missing = pull.fork if host == "gitlab" else pull.main
    assert f"unknown ref '{missing}'" in proc.stderr
    assert hint in proc.stderr and len(proc.stderr.strip().splitlines()) == 2
    other = "fetch-depth" if host == "gitlab" else "GIT_DEPTH"
    assert other not in proc.stderr
