"""What the CI environment says (ci/environment.py): the host, the request and its range from
each host's own variables, a developer's shell saying nothing, and every bad value a one-line
usage error naming its variable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.ci.environment import CiContext, Host, detect, fetch_hint, host_of
from reviewer.ci.event import EventFileError
from reviewer.errors import ExitCode, UsageError

BASE, HEAD, MERGED = "a" * 40, "b" * 40, "c" * 40

# What a GitLab runner sets in a merge request pipeline (doc/ci/variables/predefined_variables.md)
GITLAB_MR = {
    "CI": "true",
    "GITLAB_CI": "true",
    "CI_API_V4_URL": "https://gitlab.example.org/api/v4",
    "CI_PROJECT_ID": "42",
    "CI_PROJECT_PATH": "group/sub/project",
    "CI_MERGE_REQUEST_IID": "7",
    "CI_MERGE_REQUEST_DIFF_BASE_SHA": BASE,
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_MERGE_REQUEST_EVENT_TYPE": "detached",
    "CI_COMMIT_SHA": HEAD,
}
GITLAB_MERGED = {
    **GITLAB_MR,
    "CI_MERGE_REQUEST_EVENT_TYPE": "merged_result",
    "CI_COMMIT_SHA": MERGED,  # the merge commit GitLab made and checked out
    "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA": HEAD,
    "CI_MERGE_REQUEST_TARGET_BRANCH_SHA": "d" * 40,
}


def _event(tmp_path: Path, number: int = 3, base: str = BASE, head: str = HEAD) -> str:
    path = tmp_path / "event.json"
    pull = {"number": number, "base": {"sha": base}, "head": {"sha": head}}
    path.write_text(json.dumps({"pull_request": pull}))
    return str(path)


def _actions(tmp_path: Path, server: str = "https://gitea.example.org") -> dict[str, str]:
    """What Gitea's act_runner sets (GITHUB_API_URL is the server's /api/v1)."""
    return {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITEA_ACTIONS": "true",
        "GITHUB_SERVER_URL": server,
        "GITHUB_API_URL": f"{server}/api/v1",
        "GITHUB_REPOSITORY": "owner/repo",
        "GITHUB_BASE_REF": "main",
        "GITHUB_EVENT_PATH": _event(tmp_path),
    }


def test_a_developers_shell_says_nothing() -> None:
    assert detect({}) == CiContext() == CiContext(host=Host.NONE)
    assert detect({"CI": "true", "PATH": "/usr/bin", "GITLAB_CI": "false"}).host is Host.NONE


def test_a_gitlab_merge_request_pipeline() -> None:
    assert detect(GITLAB_MR) == CiContext(
        host=Host.GITLAB,
        number=7,
        project="group/sub/project",
        project_id=42,
        api_url="https://gitlab.example.org/api/v4",
        base_sha=BASE,
        head_sha=HEAD,
        base_branch="main",
    )
    # without CI_MERGE_REQUEST_EVENT_TYPE (older GitLab) it is a plain merge request pipeline
    plain = {k: v for k, v in GITLAB_MR.items() if k != "CI_MERGE_REQUEST_EVENT_TYPE"}
    assert detect(plain).head_sha == HEAD


def test_a_merge_request_from_a_fork_names_the_target_project() -> None:
    # the pipeline may run in the fork (CI_PROJECT_*); the request lives in the target project
    env = {
        **GITLAB_MR,
        "CI_PROJECT_ID": "99",
        "CI_PROJECT_PATH": "someone/project",
        "CI_MERGE_REQUEST_PROJECT_ID": "42",
        "CI_MERGE_REQUEST_PROJECT_PATH": "group/sub/project",
    }
    ctx = detect(env)
    assert (ctx.project_id, ctx.project, ctx.number) == (42, "group/sub/project", 7)
    with pytest.raises(UsageError, match="^CI_MERGE_REQUEST_PROJECT_ID="):
        detect({**env, "CI_MERGE_REQUEST_PROJECT_ID": "x"})


def test_a_refused_url_is_not_echoed_with_its_credentials() -> None:
    url = "http://user:hunter2@gitlab.example.org/api/v4"
    with pytest.raises(UsageError) as info:
        detect({**GITLAB_MR, "CI_API_V4_URL": url})
    assert "hunter2" not in info.value.message and "gitlab.example.org" in info.value.message


@pytest.mark.parametrize("kind", ["merged_result", "merge_train"])
def test_a_gitlab_merged_results_head_is_the_source_head_not_the_merge_commit(kind: str) -> None:
    ctx = detect({**GITLAB_MERGED, "CI_MERGE_REQUEST_EVENT_TYPE": kind})
    assert (ctx.base_sha, ctx.head_sha) == (BASE, HEAD)
    assert MERGED not in (ctx.base_sha, ctx.head_sha)


def test_a_merged_results_pipeline_without_the_source_head_fails_closed() -> None:
    env = {k: v for k, v in GITLAB_MERGED.items() if k != "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA"}
    with pytest.raises(UsageError) as info:
        detect(env)
    assert "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA is not set in a merged_result pipeline" in str(
        info.value.message
    )
    assert info.value.exit_code == ExitCode.USAGE and "--head" in (info.value.hint or "")


def test_a_gitlab_branch_pipeline_has_no_request_and_no_range() -> None:
    env = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": HEAD,
        "CI_PROJECT_ID": "42",
        "CI_API_V4_URL": "http://127.0.0.1:8080/api/v4",  # loopback http is allowed
    }
    assert detect(env) == CiContext(
        host=Host.GITLAB, project_id=42, api_url="http://127.0.0.1:8080/api/v4"
    )


def test_gitea_actions_are_gitea_not_github(tmp_path: Path) -> None:
    env = _actions(tmp_path)
    assert detect(env) == CiContext(
        host=Host.GITEA,
        number=3,
        project="owner/repo",
        api_url="https://gitea.example.org/api/v1",
        base_sha=BASE,
        head_sha=HEAD,
        base_branch="main",
    )
    # without GITHUB_API_URL the API is the server's /api/v1, as the runner derives it
    no_api = {k: v for k, v in env.items() if k != "GITHUB_API_URL"}
    assert detect(no_api).api_url == "https://gitea.example.org/api/v1"


def test_forgejo_actions_are_gitea_and_say_forgejo(tmp_path: Path) -> None:
    # forgejo/runner sets both GITEA_ACTIONS and FORGEJO_ACTIONS; either alone is enough
    env = {**_actions(tmp_path, "https://code.example.org"), "FORGEJO_ACTIONS": "true"}
    ctx = detect(env)
    assert (ctx.host, ctx.forgejo, ctx.api_url) == (
        Host.GITEA, True, "https://code.example.org/api/v1"
    )
    del env["GITEA_ACTIONS"]
    assert host_of(env) is Host.GITEA and detect(env).forgejo


def test_github_actions(tmp_path: Path) -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_EVENT_PATH": _event(tmp_path, number=12),
    }
    assert detect(env) == CiContext(
        host=Host.GITHUB,
        number=12,
        project="o/r",
        api_url="https://api.github.com",
        base_sha=BASE,
        head_sha=HEAD,
    )
    # the event file alone says GitHub, as the range defaults always read it
    assert host_of({"GITHUB_EVENT_PATH": env["GITHUB_EVENT_PATH"]}) is Host.GITHUB


def test_an_unreadable_event_file_is_refused_unless_lenient(tmp_path: Path) -> None:
    env = {**_actions(tmp_path), "GITHUB_EVENT_PATH": str(tmp_path / "missing.json")}
    with pytest.raises(EventFileError):
        detect(env)
    ctx = detect(env, strict_event=False)
    assert (ctx.host, ctx.base_sha, ctx.head_sha, ctx.base_branch) == (
        Host.GITEA, None, None, "main"
    )


GITLAB_BAD = [
    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "main", "a commit SHA"),
    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "--output=/tmp/x", "a commit SHA"),
    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "A" * 40, "a commit SHA"),  # git writes lower case
    ("CI_MERGE_REQUEST_DIFF_BASE_SHA", "a" * 39, "a commit SHA"),
    ("CI_COMMIT_SHA", "b" * 41, "a commit SHA"),
    ("CI_MERGE_REQUEST_IID", "0", "a positive integer"),
    ("CI_MERGE_REQUEST_IID", "-3", "a positive integer"),
    ("CI_MERGE_REQUEST_IID", "7; rm", "a positive integer"),
    ("CI_MERGE_REQUEST_IID", "\u0667", "a positive integer"),  # an Arabic-Indic digit
    ("CI_PROJECT_ID", "1e3", "a positive integer"),
    ("CI_PROJECT_PATH", "../../etc", "a project path"),
    ("CI_PROJECT_PATH", "project", "a project path"),
    ("CI_API_V4_URL", "http://gitlab.example.org/api/v4", "an https URL"),
    ("CI_API_V4_URL", "file:///etc/passwd", "an https URL"),
    ("CI_API_V4_URL", "https://[::1/api", "an https URL"),
    ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "-main", "a branch name"),
    ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "a..b", "a branch name"),
    ("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", "ma in", "a branch name"),
    ("CI_MERGE_REQUEST_EVENT_TYPE", "merged", "detached, merged_result or merge_train"),
]


@pytest.mark.parametrize(("name", "value", "expected"), GITLAB_BAD)
def test_every_gitlab_value_is_checked(name: str, value: str, expected: str) -> None:
    with pytest.raises(UsageError) as info:
        detect({**GITLAB_MR, name: value})
    message = info.value.message
    assert message.startswith(f"{name}=") and f"is not {expected}" in message
    assert "\n" not in message and info.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GITHUB_API_URL", "http://gitea.example.org/api/v1"),
        ("GITHUB_REPOSITORY", "owner"),
        ("GITHUB_REPOSITORY", "../.."),
        ("GITHUB_BASE_REF", "--upload-pack=x"),
    ],
)
def test_every_actions_value_is_checked(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(UsageError, match=f"^{name}="):
        detect({**_actions(tmp_path), name: value})


def test_the_event_files_shas_are_checked(tmp_path: Path) -> None:
    env = {**_actions(tmp_path), "GITHUB_EVENT_PATH": _event(tmp_path, head="HEAD~3")}
    with pytest.raises(UsageError, match=r"^GITHUB_EVENT_PATH pull_request\.head\.sha="):
        detect(env)
    sha256 = "e" * 64  # a SHA-256 repository's object names are accepted
    env["GITHUB_EVENT_PATH"] = _event(tmp_path, head=sha256)
    assert detect(env).head_sha == sha256


def test_the_fetch_hint_names_the_hosts_own_way() -> None:
    assert "GIT_DEPTH" in fetch_hint(Host.GITLAB)
    for host in (Host.GITHUB, Host.GITEA, Host.NONE):
        assert "fetch-depth: 0" in fetch_hint(host) and "GIT_DEPTH" not in fetch_hint(host)
