"""The credential scrub against the variables other CI systems and tools set, proven through
the real CLI: a wrapper git records the environment git really gets, the fake model server
records every request, and --debug and `reviewer doctor` name (never show) what was removed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from reviewer.cli.app import app
from tests.model_fakes import answer, finding, serve_ollama_chat, serve_ollama_preflight

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6Z3JvdXAvcHJvaiJ9.c2lnbmF0dXJlLW1hcmtlcg"
# Each value is unique and appears nowhere else, so finding it anywhere is a leak.
SECRETS = {
    # GitLab CI
    "CI_JOB_TOKEN": "marker-gl-job-11aa",
    "REVIEWER_GITLAB_TOKEN": "marker-gl-reviewer-1a1a",  # reviewer post's own token variables
    "GITLAB_TOKEN": "marker-gl-token-1b1b",
    "CI_JOB_JWT": "marker-gl-jwt-22bb",
    "CI_JOB_JWT_V1": "marker-gl-jwt1-33cc",
    "CI_JOB_JWT_V2": "marker-gl-jwt2-44dd",
    "CI_REGISTRY_PASSWORD": "marker-gl-reg-55ee",
    "CI_DEPLOY_PASSWORD": "marker-gl-deploy-66ff",
    "CI_DEPENDENCY_PROXY_PASSWORD": "marker-gl-proxy-7788",
    "CI_REPOSITORY_URL": "https://gitlab-ci-token:marker-gl-url-8899@gitlab.example/g/p.git",
    "MY_ID_TOKEN_FOR_VAULT": JWT,  # a user-named GitLab id_token: caught by its value
    # Azure Pipelines, Bitbucket, Gitea/Forgejo, Jenkins
    "SYSTEM_ACCESSTOKEN": "marker-azure-99aa",
    "BITBUCKET_STEP_OIDC_TOKEN": "marker-bb-oidc-aabb",
    "BITBUCKET_APP_PASSWORD": "marker-bb-app-bbcc",
    "GITEA_TOKEN": "marker-gitea-ccdd",
    "REVIEWER_GITEA_TOKEN": "marker-gitea-reviewer-cdcd",
    "FORGEJO_TOKEN": "marker-forgejo-ddee",
    "GITHUB_TOKEN": "marker-gh-eeff",
    "JENKINS_API_TOKEN": "marker-jenkins-ff00",
    "DEPLOY_CREDS": "ghp_markerjenkinsboundcred0011223344",  # user-named: caught by its value
    # databases, registries, package managers
    "PGPASSWORD": "marker-pg-0011",
    "MYSQL_PWD": "marker-mysql-1122",
    "DOCKER_AUTH_CONFIG": '{"auths":{"r.example":{"auth":"marker-docker-2233"}}}',
    "NPM_TOKEN": "marker-npm-3344",
    "npm_config__authToken": "marker-npmrc-4455",
    "TWINE_PASSWORD": "marker-twine-5566",
    "POETRY_PYPI_TOKEN_PYPI": "marker-poetry-6677",
    "DATABASE_URL": "postgres://app:marker-dburl-7788@db.internal:5432/app",
    # git config from the environment: http.extraHeader carries a token
    "GIT_CONFIG_COUNT": "1",
    "GIT_CONFIG_KEY_0": "http.extraHeader",
    "GIT_CONFIG_VALUE_0": "AUTHORIZATION: basic marker-gitcfg-8899",
    "GIT_CONFIG_PARAMETERS": "'http.extraheader'='AUTHORIZATION: basic marker-gitparam-99aa'",
}
# Markers inside values that are not secret on their own (GIT_CONFIG_COUNT=1).
NOT_MARKED = {"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0"}


def make_repo(root: Path) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
            cwd=root, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()

    root.mkdir()
    git("init", "-q", "-b", "main")
    (root / "app.py").write_text("x = 1\n")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    base = git("rev-parse", "HEAD")
    (root / "app.py").write_text("x = 1\ny = x / 0\n")
    git("commit", "-q", "-am", "head")
    return base


def git_wrapper(tmp_path: Path) -> tuple[Path, Path]:
    """A `git` first on PATH that appends its environment to a file, then runs the real git."""
    real_git = shutil.which("git")
    assert real_git is not None
    fake_bin = tmp_path / "fakebin"
    fake_bin.mkdir()
    dump = tmp_path / "git-env.txt"
    wrapper = fake_bin / "git"
    wrapper.write_text(f"#!/bin/sh\nenv >> '{dump}'\necho ---- >> '{dump}'\nexec '{real_git}' \"$@\"\n")
    wrapper.chmod(0o755)
    return fake_bin, dump


def test_ci_credentials_reach_neither_git_nor_the_model(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    base = make_repo(tmp_path / "repo")
    fake_bin, dump = git_wrapper(tmp_path)
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(path="app.py", line=2)))
    out = tmp_path / "findings.json"
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--repo", str(tmp_path / "repo"),
         "--base", base, "--ollama-url", server.url_for("/").rstrip("/"), "--no-cache",
         "--output", str(out), "--format", "json", "--debug"],
        env={**env, **SECRETS, "PATH": f"{fake_bin}{os.pathsep}{env['PATH']}"},
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    git_seen = dump.read_text()
    assert git_seen.count("----") >= 3  # git really ran through the wrapper
    bodies = "".join(req.get_data(as_text=True) for req, _ in server.log)
    assert "y = x / 0" in bodies  # the model did get the diff
    document = out.read_text()
    for name, value in SECRETS.items():
        assert f"\n{name}=" not in f"\n{git_seen}", name
        if name in NOT_MARKED:
            continue
        for where in (git_seen, bodies, proc.stdout, proc.stderr, document):
            assert value not in where, name
    debug = next(ln for ln in proc.stderr.splitlines() if "removed from the environment" in ln)
    named = set(debug.split(": ", 2)[-1].split(", "))
    assert set(SECRETS) <= named
    assert "PATH" not in named and "REVIEWER_LOCK_DIR" not in named


def test_doctor_names_every_ci_credential(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    # Refused URL: doctor stops before connecting, the credentials check still runs.
    result = CliRunner().invoke(
        app, ["doctor", "--repo", str(tmp_path), "--ollama-url", "http://203.0.113.9"]
    )
    line = next(ln for ln in result.output.splitlines() if " credentials " in f" {ln} ")
    assert line.startswith("ok")
    for name, value in SECRETS.items():
        assert name in line
        if name not in NOT_MARKED:
            assert value not in result.output
