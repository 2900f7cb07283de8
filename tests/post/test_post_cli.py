"""`reviewer post` and `reviewer report` through the real entry points: exit codes 0/1/2/3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewer.cli.app import app
from tests.post.github_fake import FakeGitHub

PROJECT = Path(__file__).resolve().parents[2]


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    runner = CliRunner()
    full_env = dict.fromkeys(("GITHUB_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"), "")
    full_env.update(env)
    result = runner.invoke(app, args, env=full_env)
    return result.exit_code, result.stdout, result.stderr


def test_post_exit_0_then_1_with_fail_on(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    code, _, err = invoke(["post", "--findings", str(findings_file)], env)
    assert code == 0, err
    assert len(fake.reviews) == 1
    code, _, err = invoke(["post", "--findings", str(findings_file), "--fail-on", "critical"], env)
    assert code == 1 and len(fake.reviews) == 1


def test_post_bad_document_exit_2_and_nothing_sent(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> None:
    for text in ("{not json", '{"schema_version": 2}', "[]"):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        code, _, err = invoke(["post", "--findings", str(bad)], env)
        assert code == 2 and "reviewer: error:" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) <= 2
    assert fake.log == []


def test_post_without_token_exit_2_or_annotations(findings_file: Path, tmp_path: Path) -> None:
    code, _, err = invoke(["post", "--findings", str(findings_file), "--repo", "o/r", "--pr", "1"], {})
    assert code == 2 and "GITHUB_TOKEN is not set" in err
    assert "`pull-requests: write`" in err and "issues" not in err
    summary = tmp_path / "summary.md"
    code, out, _ = invoke(
        ["post", "--findings", str(findings_file), "--annotations-fallback"],
        {"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert code == 0 and out.count("::") >= 2 * 9
    assert "::error file=src/app.py,line=24,endLine=24,title=[critical] Division by zero::" in out
    assert summary.read_text().startswith("<!-- reviewer:summary -->")


def test_post_dry_run_without_token_needs_no_network(findings_file: Path) -> None:
    code, out, _ = invoke(["post", "--findings", str(findings_file), "--dry-run"], {})
    assert code == 0 and "dry run: nothing is posted" in out and "<!-- reviewer:summary -->" in out


def test_post_github_refusal_exit_3_in_a_subprocess(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    fake.server_errors = 100
    child_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--max-wait", "0"],
        env=child_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "GitHub answered 502" in result.stderr and "Traceback" not in result.stderr
    assert fake.writes() == []


def test_post_success_in_a_subprocess(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    child_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file)],
        env=child_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "5 inline comments posted" in result.stderr and len(fake.summaries()) == 1


def test_report_converts_and_rejects_unknown_formats(findings_file: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "out.sarif"
    code, _, err = invoke(["report", "--findings", str(findings_file), "-f", "sarif", "-o", str(out_file)], {})
    assert code == 0, err
    assert '"version": "2.1.0"' in out_file.read_text()
    code, _, err = invoke(["report", "--findings", str(findings_file), "--format", "yaml"], {})
    assert code == 2 and "unknown format 'yaml'" in err and "sarif" in err
    code, out, _ = invoke(["report", "--findings", str(findings_file), "--format", "rdjsonl"], {})
    assert code == 0 and len(out.splitlines()) == 9


def test_post_fail_on_takes_any_case_in_a_subprocess(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    """The document holds a critical finding: `High` trips --fail-on just as `high` does."""
    child_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT / "src")}
    codes = []
    for level in ("high", "High", "HIGH"):
        result = subprocess.run(
            [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--fail-on", level],
            env=child_env, capture_output=True, text=True, timeout=60, check=False,
        )
        assert "Invalid value" not in result.stderr, result.stderr
        codes.append(result.returncode)
    assert codes == [1, 1, 1]
    bad = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--fail-on", "severe"],
        env=child_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 2
    assert "'severe' is not one of: critical, high, medium, low, info" in bad.stderr
    assert "Value error" not in bad.stderr


# --- each host through the real entry point: a missing piece is one line and exit 2 ----------

GITLAB_JOB = {
    "GITLAB_CI": "true", "CI_PROJECT_PATH": "group/sub/app", "CI_PROJECT_ID": "42",
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4", "CI_JOB_TOKEN": "job-token",
}


def post_child(findings_file: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), *args],
        env={**keep, "PYTHONPATH": str(PROJECT / "src"), **env},
        capture_output=True, text=True, timeout=60, check=False,
    )


def assert_usage_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    message, hint = result.stderr.strip().splitlines()
    assert message.startswith("reviewer: error: ") and hint.startswith("hint: ")
    assert "Traceback" not in result.stderr and result.stdout == ""
    for word in words:
        assert word in result.stderr, word


@pytest.mark.parametrize(
    ("env", "args", "words"),
    [
        (GITLAB_JOB, [], ["REVIEWER_GITLAB_TOKEN or GITLAB_TOKEN is not set", "CI_JOB_TOKEN cannot write",
                          "project access token", "--format codequality"]),
        ({"GITEA_ACTIONS": "true"}, [], ["REVIEWER_GITEA_TOKEN or GITEA_TOKEN or GITHUB_TOKEN is not set",
                                         "write access"]),
        ({}, ["--host", "gitlab"], ["REVIEWER_GITLAB_TOKEN or GITLAB_TOKEN is not set"]),
        ({"GITLAB_CI": "true"}, ["--host", "github"], ["GITHUB_TOKEN is not set", "pull-requests: write"]),
    ],
    ids=["gitlab", "gitea", "host-flag-gitlab", "host-flag-github-in-gitlab-ci"],
)
def test_post_without_the_hosts_token_in_a_subprocess(
    findings_file: Path, env: dict[str, str], args: list[str], words: list[str]
) -> None:
    assert_usage_error(post_child(findings_file, env, *args), *words)


def test_post_in_a_gitlab_branch_pipeline_says_there_is_no_merge_request(findings_file: Path) -> None:
    result = post_child(findings_file, {**GITLAB_JOB, "REVIEWER_GITLAB_TOKEN": "glpat-" + "x" * 20})
    assert_usage_error(result, "no merge request to post to: CI_MERGE_REQUEST_IID is not set",
                       '$CI_PIPELINE_SOURCE == "merge_request_event"', "--pr")


@pytest.mark.parametrize(
    ("env", "args", "named"),
    [
        ({**GITLAB_JOB, "CI_API_V4_URL": "http://gitlab.example.com/api/v4"}, ["--pr", "3"], "CI_API_V4_URL="),
        ({"GITEA_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_SERVER_URL": "http://gitea.example.com"},
         ["--pr", "3"], "GITHUB_SERVER_URL="),
        ({"GITEA_ACTIONS": "true"}, ["--repo", "o/r", "--pr", "3", "--api-url", "http://10.0.0.5/api/v1"], "--api-url="),
    ],
    ids=["gitlab-variable", "gitea-variable", "gitea-flag"],
)
def test_post_refuses_a_plain_http_api_url_per_host(
    findings_file: Path, env: dict[str, str], args: list[str], named: str
) -> None:
    env = {**env, "REVIEWER_GITLAB_TOKEN": "secret-gl", "GITEA_TOKEN": "secret-gt"}
    result = post_child(findings_file, env, *args)
    assert_usage_error(result, named, "unencrypted", "https://")
    assert "secret-" not in result.stderr


def test_post_annotations_fallback_is_github_and_gitea_only(findings_file: Path) -> None:
    gitea = post_child(findings_file, {"GITEA_ACTIONS": "true", "GITHUB_ACTIONS": "true"}, "--annotations-fallback")
    assert gitea.returncode == 0, gitea.stderr
    assert "::error file=src/app.py,line=24" in gitea.stdout
    assert "GITEA_TOKEN or GITHUB_TOKEN is not set; printing annotations instead" in gitea.stderr
    gitlab = post_child(findings_file, GITLAB_JOB, "--annotations-fallback")
    assert_usage_error(gitlab, "GitLab CI does not read", "--format codequality")


def test_post_host_flag_takes_only_known_hosts(findings_file: Path) -> None:
    result = post_child(findings_file, {}, "--host", "bitbucket")
    assert result.returncode == 2 and "'bitbucket' is not one of: github, gitlab, gitea" in result.stderr
    assert "Traceback" not in result.stderr
