"""The review jobs of examples/gitlab-ci.yml and examples/gitea-review.yml, run as their CI runs
them: the job's own script lines in bash, over a real git repository, with the host's CI
variables, against a recording fake Ollama standing in for the `ollama` service. They pull the
model, review the request's own range, write what the next job reads, and hand no CI token to
the model server."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pytest_httpserver import HTTPServer

from tests.deploy.shipfiles import ROOT, load
from tests.diff.gitrepo_helpers import GitRepo
from tests.model_fakes import MODEL, answer, finding, serve_ollama_chat, serve_ollama_preflight

JOB_TOKEN = "glcbt-64_" + "j" * 24
ACTIONS_TOKEN = "ghs_" + "a" * 36
CODEQUALITY = json.loads(
    (ROOT / "tests" / "data" / "gitlab-codequality.schema.json").read_text(encoding="utf-8")
)


def merge_request(tmp_path: Path) -> tuple[GitRepo, str, str]:
    repo = GitRepo(tmp_path / "project")
    repo.write("README.md", "project\n")
    base = repo.commit("base")
    repo.write("src/app.py", "def div(a, b):\n    return a / b\n")
    head = repo.commit("feature")
    return repo, base, head


def model_service(server: HTTPServer) -> str:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(path="src/app.py", line=2)))
    server.expect_request("/api/pull", method="POST").respond_with_json({"status": "success"})
    return server.url_for("").rstrip("/")


def expand(value: str, env: dict[str, str]) -> str:
    """GitLab's expansion of `$NAME` in a variable's value."""
    return re.sub(r"\$([A-Z_][A-Z0-9_]*)", lambda m: env.get(m.group(1), ""), value)


def bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # GitLab and the Actions runners run a script with errexit and pipefail.
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False,
    )


def tool_path(env: dict[str, str]) -> str:
    """The test's own reviewer and python first, as the job's image has them."""
    return f"{Path(sys.executable).parent}:{env['PATH']}"


def assert_the_model_saw_no_token(server: HTTPServer, *tokens: str) -> None:
    for request, _ in server.log:
        seen = request.get_data(as_text=True) + str(request.headers)
        for token in tokens:
            assert token not in seen, request.path


def pulled(server: HTTPServer) -> list[dict[str, Any]]:
    return [request.get_json() for request, _ in server.log if request.path == "/api/pull"]


def test_the_gitlab_review_job_pulls_reviews_and_writes_both_artifacts(
    tmp_path: Path, server: HTTPServer, env: dict[str, str]
) -> None:
    pipeline = load(ROOT / "examples" / "gitlab-ci.yml")
    job = pipeline["review"]
    repo, base, head = merge_request(tmp_path)
    (tmp_path / "home").mkdir()
    ci = {
        **env,
        "PATH": tool_path(env),
        "HOME": str(tmp_path / "home"),  # the job's `git config --global` lands here
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(repo.root),
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_API_V4_URL": "https://gitlab.example.org/api/v4",
        "CI_PROJECT_ID": "42",
        "CI_PROJECT_PATH": "group/sub/project",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_COMMIT_SHA": head,
        "CI_JOB_TOKEN": JOB_TOKEN,
    }
    for name, value in {**pipeline["variables"], **job["variables"]}.items():
        ci[name] = expand(str(value), ci)
    ci["OLLAMA_BASE_URL"] = model_service(server)  # the service's alias, here a fake

    done = bash("\n".join(job["script"]), repo.root, ci)

    assert done.returncode == 0, done.stderr
    assert pulled(server) == [{"model": MODEL, "stream": False}]
    document = json.loads((repo.root / "findings.json").read_text(encoding="utf-8"))
    assert document["status"] == "complete"
    assert (document["base"], document["head"]) == (base, head)
    assert [f["path"] for f in document["findings"]] == ["src/app.py"]
    report = json.loads((repo.root / job["artifacts"]["reports"]["codequality"]).read_text())
    jsonschema.Draft202012Validator(CODEQUALITY).validate(report)
    assert [entry["location"]["path"] for entry in report] == ["src/app.py"]
    assert_the_model_saw_no_token(server, JOB_TOKEN)


def steps(job: dict[str, Any], *names: str) -> str:
    by_name = {step.get("name"): step for step in job["steps"]}
    return "\n".join(by_name[name]["run"] for name in names)


@pytest.mark.parametrize("forgejo", [False, True], ids=["gitea", "forgejo"])
def test_the_gitea_review_job_pulls_and_reviews_without_the_job_token(
    tmp_path: Path, server: HTTPServer, env: dict[str, str], forgejo: bool
) -> None:
    workflow = load(ROOT / "examples" / "gitea-review.yml")
    job = workflow["jobs"]["review"]
    repo, base, head = merge_request(tmp_path)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    # What the job's install step builds: a virtualenv with reviewer, here the test's own.
    (runner_temp / "reviewer-venv").symlink_to(Path(sys.executable).parent.parent)
    event = tmp_path / "event.json"
    pull = {"number": 3, "base": {"sha": base}, "head": {"sha": head}}
    event.write_text(json.dumps({"pull_request": pull}), encoding="utf-8")
    runner = {
        **env,
        "GITHUB_ACTIONS": "true",
        "GITEA_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://gitea.example.org",
        "GITHUB_API_URL": "https://gitea.example.org/api/v1",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_EVENT_PATH": str(event),
        "RUNNER_TEMP": str(runner_temp),
        # The runners put the job token in every step's environment.
        "GITHUB_TOKEN": ACTIONS_TOKEN,
        "GITEA_TOKEN": ACTIONS_TOKEN,
        **({"FORGEJO_ACTIONS": "true", "FORGEJO_TOKEN": ACTIONS_TOKEN} if forgejo else {}),
        **{k: str(v) for k, v in workflow["env"].items()},
        **{k: str(v) for k, v in job["env"].items()},
    }
    runner["OLLAMA_BASE_URL"] = model_service(server)

    done = bash(steps(job, "Pull the model", "Review"), repo.root, runner)

    assert done.returncode == 0, done.stderr
    assert pulled(server) == [{"model": MODEL, "stream": False}]
    out = runner_temp / "reviewer-out" / "findings.json"
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["status"] == "complete"
    assert (document["base"], document["head"]) == (base, head)
    assert [f["path"] for f in document["findings"]] == ["src/app.py"]
    # What the upload step takes is what the review wrote.
    (upload,) = [s for s in job["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "${{ runner.temp }}/reviewer-out/"
    assert_the_model_saw_no_token(server, ACTIONS_TOKEN)
