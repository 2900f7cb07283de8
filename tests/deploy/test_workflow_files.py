"""The action, workflows, pre-commit hook and Dockerfile keep their security properties."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.shipfiles import ROOT, WORKFLOW_FILES, load, triggers

ACTION = load(ROOT / "action.yml")
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
PLACEHOLDER = "OWNER/reviewer@"


def reviewer_steps(subcommand: str) -> list[dict[str, Any]]:
    pattern = re.compile(
        rf"reviewer-venv/bin/reviewer\"?\)? *{subcommand}\b|reviewer\" {subcommand}"
    )
    return [s for s in STEPS if "run" in s and pattern.search(s["run"])]


def all_uses() -> list[tuple[Path, str]]:
    """Every action and reusable workflow the action and the workflows call (docker:// images
    are checked by test_image_pins.py)."""
    found = [(ROOT / "action.yml", s["uses"]) for s in STEPS if "uses" in s]
    for path in WORKFLOW_FILES:
        for job in load(path)["jobs"].values():
            if "uses" in job:  # a reusable workflow
                found.append((path, job["uses"]))
            found += [(path, s["uses"]) for s in job.get("steps", []) if "uses" in s]
    return [(path, ref) for path, ref in found if not ref.startswith("docker://")]


def test_action_reviews_and_posts_in_two_separate_steps_with_the_token_only_on_post() -> None:
    assert ACTION["runs"]["using"] == "composite"
    (review,) = reviewer_steps("run")
    (post,) = reviewer_steps("post")
    assert review is not post
    assert post["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    for step in STEPS:
        if step is post:
            continue
        text = repr(step.get("env", {})) + repr(step.get("with", {}))
        assert "token" not in text.lower(), step.get("name")
    # Defence in depth: even a job-level GITHUB_TOKEN is removed before reviewer starts.
    assert "-u GITHUB_TOKEN" in review["run"]


def test_action_passes_no_expression_into_a_shell_script() -> None:
    scripts = [s["run"] for s in STEPS if "run" in s]
    assert scripts
    for script in scripts:
        assert "${{" not in script


def test_action_interface() -> None:
    assert {"model", "ollama-url", "backend", "fail-on", "config", "post", "args", "cache"} <= set(
        ACTION["inputs"]
    )
    assert ACTION["inputs"]["ollama-url"]["default"] == "http://localhost:11434"
    assert {"findings", "status", "total", "critical", "high", "medium", "low", "info"} <= set(
        ACTION["outputs"]
    )
    installs = [s["run"] for s in STEPS if "install-reviewer.sh" in s.get("run", "")]
    assert installs and '"$GITHUB_ACTION_PATH/scripts/install-reviewer.sh"' in installs[0]
    cached = [s for s in STEPS if s.get("uses", "").startswith("actions/cache")]
    assert len(cached) >= 2, "pip cache and the response cache"


def test_zizmor_holds_every_action_but_the_placeholder_to_a_commit_sha() -> None:
    policies = load(ROOT / "scripts" / "zizmor.yml")["rules"]["unpinned-uses"]["config"]["policies"]
    assert policies == {"OWNER/reviewer": "ref-pin", "*": "hash-pin"}


def test_every_action_is_pinned_to_a_commit_sha_with_its_version_noted() -> None:
    uses = all_uses()
    assert len(uses) >= 10
    for path, ref in uses:
        if ref.startswith(PLACEHOLDER):
            assert path.parent.name == "examples", "the placeholder is for users' copies only"
            continue
        assert SHA_PIN.match(ref), f"{path.name}: {ref}"
    for path in [ROOT / "action.yml", *WORKFLOW_FILES]:
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"uses: [\w.-]+/[\w.-]+.*@[0-9a-f]{40}", line):
                assert re.search(r"# v\d", line), f"{path.name}: {line.strip()}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_workflow_has_no_default_permissions_and_bounded_jobs(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}
    assert "pull_request_target" not in triggers(workflow)
    for name, job in workflow["jobs"].items():
        assert isinstance(job["timeout-minutes"], int), name
        assert "permissions" in job, name
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name
            assert "${{" not in step.get("run", ""), f"{name}: expression inside a script"


def test_fork_safe_review_has_no_write_access_and_uploads_the_findings() -> None:
    workflow = load(ROOT / "examples" / "review-fork-safe.yml")
    assert set(triggers(workflow)) == {"pull_request", "workflow_dispatch", "schedule"}
    job = workflow["jobs"]["review"]
    assert job["if"] == "github.event_name == 'pull_request'"
    assert job["permissions"] == {"contents": "read"}
    assert workflow["jobs"]["model-cache"]["permissions"] == {}
    text = (ROOT / "examples" / "review-fork-safe.yml").read_text(encoding="utf-8")
    assert "secrets." not in text
    review = next(s for s in job["steps"] if s.get("uses", "").startswith(PLACEHOLDER))
    assert review["with"]["post"] == "false"
    upload = next(s for s in job["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["name"] == "reviewer-findings"


def test_workflow_run_poster_runs_no_pull_request_code() -> None:
    workflow = load(ROOT / "examples" / "post-review.yml")
    on = triggers(workflow)
    assert set(on) == {"workflow_run"}
    assert on["workflow_run"]["workflows"] == [
        load(ROOT / "examples" / "review-fork-safe.yml")["name"]
    ]
    (job,) = workflow["jobs"].values()
    uses = [s.get("uses", "") for s in job["steps"]]
    assert not any(u.startswith("actions/checkout") for u in uses)
    assert any("download-artifact" in u for u in uses)
    post = next(s for s in job["steps"] if s.get("uses", "").startswith(PLACEHOLDER))
    assert post["with"]["mode"] == "post-only"
    assert "contents" not in job["permissions"]
    assert job["permissions"]["checks"] == "write"  # the check run is the gate on the PR
    assert post["if"] == "steps.pr.outputs.trusted == 'true'"


def cache_steps(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job.get("steps", []) if s.get("uses", "").startswith(f"{action}@")]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_model_cache_a_review_restores_is_saved_by_the_same_file_on_the_default_branch(
    path: Path,
) -> None:
    # A pull request can restore a cache only from its own runs or from the default branch: a
    # key that no job of this file saves outside pull_request events is never there to restore.
    jobs = load(path)["jobs"]
    restored = {
        (s["with"]["path"], s["with"]["key"])
        for job in jobs.values()
        for s in cache_steps(job, "actions/cache/restore")
        if not s["with"].get("lookup-only")
    }
    saved = {
        (s["with"]["path"], s["with"]["key"])
        for job in jobs.values()
        if job.get("if") == "github.event_name != 'pull_request'"
        for s in cache_steps(job, "actions/cache/save")
    }
    assert restored <= saved, f"{path.name} restores {restored - saved} that it never saves"
    for job in jobs.values():
        for step in cache_steps(job, "actions/cache/save"):
            assert job.get("if") == "github.event_name != 'pull_request'", "saved from a PR run"
            assert "ollama" in job["services"] and not job["permissions"], step["name"]


def test_the_fork_safe_pair_caches_the_model_without_review_yml() -> None:
    fork_safe = load(ROOT / "examples" / "review-fork-safe.yml")
    review = load(ROOT / "examples" / "review.yml")
    assert fork_safe["jobs"]["model-cache"] == review["jobs"]["model-cache"]
    assert fork_safe["env"] == review["env"], "the same model, digest and key in both"
    on = triggers(fork_safe)
    assert set(on) >= {"schedule", "workflow_dispatch"}


def posting_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    """(file, job, job mapping) for every example job whose reviewer step posts."""
    found = []
    for path in WORKFLOW_FILES:
        for name, job in load(path)["jobs"].items():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith(PLACEHOLDER):
                    if str(step.get("with", {}).get("post", "true")) == "true":
                        found.append((path.name, name, job))
    return found


def readme_post_permissions() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## `reviewer post`", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    permissions: dict[str, str] = yaml.safe_load(block)["permissions"]
    return permissions


def test_every_job_that_posts_has_what_the_poster_needs_and_nothing_on_issues() -> None:
    # The summary is an issue comment on the pull request: GitHub's permission tables give the
    # issue-comment endpoints to `pull-requests: write` as well as `issues: write`, so a job
    # that posts needs only pull-requests and checks (the check run), never issues.
    jobs = posting_jobs()
    assert {(f, j) for f, j, _ in jobs} == {("review.yml", "review"), ("post-review.yml", "post")}
    for file, name, job in jobs:
        permissions = job["permissions"]
        assert permissions["pull-requests"] == "write", f"{file}:{name}"
        assert permissions["checks"] == "write", f"{file}:{name}"
        assert "issues" not in permissions, f"{file}:{name} grants issues"
        assert "contents" not in permissions or permissions["contents"] == "read"


def test_readme_grants_what_the_example_grants() -> None:
    review = load(ROOT / "examples" / "review.yml")["jobs"]["review"]["permissions"]
    assert readme_post_permissions() == review == {
        "contents": "read",
        "pull-requests": "write",
        "checks": "write",
    }


def test_example_review_caches_the_model_keyed_by_name_and_digest() -> None:
    workflow = load(ROOT / "examples" / "review.yml")
    services = [job["services"]["ollama"] for job in workflow["jobs"].values()]
    assert all(s["image"].startswith("ollama/ollama:") for s in services)
    keys = [
        s["with"]["key"]
        for job in workflow["jobs"].values()
        for s in job["steps"]
        if s.get("uses", "").startswith("actions/cache")
    ]
    assert keys and all("env.MODEL }}" in k and "env.MODEL_DIGEST }}" in k for k in keys)


def test_ci_runs_lint_tests_on_three_pythons_e2e_and_the_file_checks() -> None:
    jobs = load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    assert jobs["test"]["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    scripts = {name: " ".join(s.get("run", "") for s in job["steps"]) for name, job in jobs.items()}
    assert "ruff check" in scripts["lint"] and "mypy" in scripts["lint"]
    assert "scripts/test.sh" in scripts["test"] and "-m e2e" in scripts["e2e"]
    assert "scripts/check-ci-files.sh" in scripts["ci-files"]


def test_pre_commit_hook_reviews_the_staged_diff_and_leaves_optional_to_the_user() -> None:
    (hook,) = load(ROOT / ".pre-commit-hooks.yaml")
    assert hook["entry"] == "reviewer run --staged"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert "LOCAL_LLM_OPTIONAL" not in repr(hook)


def test_dockerfile_is_multi_stage_slim_and_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    assert len(stages) >= 2
    assert "slim" in re.search(r"PYTHON_IMAGE=(\S+)", text).group(1)  # type: ignore[union-attr]
    final = stages[-1]
    assert "COPY --from=build" in final
    for tool in ("build-essential", "gcc", "pip install"):
        assert tool not in final
    user = re.findall(r"^USER (\S+)", final, flags=re.M)
    assert user and not user[-1].startswith(("root", "0"))
