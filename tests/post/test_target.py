"""`reviewer post` knows which host it posts to: the target from --host or the CI environment
(GitLab CI, Gitea/Forgejo Actions, GitHub Actions), each host's token variables and messages,
and open_host's dispatch by the host's name."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from reviewer.errors import ExitCode, PostError, UsageError
from reviewer.post.host import Host
from reviewer.post.hosts import host_module, open_host
from reviewer.post.hosts.github import GitHubHost
from reviewer.post.publish import PostSettings, post_command
from reviewer.post.target import Target, resolve_target
from reviewer.post.token import missing_token, token_for
from tests.post.memory_host import HEAD, MemoryHost
from tests.post.pr_data import APP_PATCH, README_PATCH, document

SHA = "a" * 40
# A merge request from a fork: the pipeline runs in the fork, the request lives in the target.
GITLAB_MR = {
    "GITLAB_CI": "true",
    "CI_PROJECT_PATH": "fork-owner/sub/app",
    "CI_PROJECT_ID": "99",
    "CI_MERGE_REQUEST_PROJECT_PATH": "group/sub/app",
    "CI_MERGE_REQUEST_PROJECT_ID": "42",
    "CI_MERGE_REQUEST_IID": "7",
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_COMMIT_SHA": SHA,
}


def gitea_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    pull = {"number": 5, "head": {"sha": SHA}, "base": {"sha": "b" * 40}}
    event.write_text(json.dumps({"action": "synchronized", "number": 5, "pull_request": pull}))
    return {
        "GITEA_ACTIONS": "true",
        "GITHUB_ACTIONS": "true",  # Gitea's runner sets it too: Gitea must still win
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": "owner/app",
        "GITHUB_SERVER_URL": "https://gitea.example.com",
        **extra,
    }


def test_a_gitlab_merge_request_pipeline_names_the_target_project() -> None:
    target = resolve_target(GITLAB_MR, None, None, None)
    assert (target.host, target.repo, target.project_id, target.number) == ("gitlab", "group/sub/app", 42, 7)
    assert target.api_url == "https://gitlab.example.com/api/v4" and target.head_sha == SHA
    assert target.reference == "group/sub/app!7"


def test_a_gitea_job_reads_the_event_file_and_derives_the_api_url(tmp_path: Path) -> None:
    target = resolve_target(gitea_env(tmp_path), None, None, None)
    assert (target.host, target.repo, target.number, target.head_sha) == ("gitea", "owner/app", 5, SHA)
    assert target.api_url == "https://gitea.example.com/api/v1" and target.reference == "owner/app#5"
    runner = gitea_env(tmp_path, GITHUB_API_URL="https://gitea.example.com/api/v1/")
    assert resolve_target(runner, None, None, None).api_url == "https://gitea.example.com/api/v1"


def test_the_host_flag_overrides_detection() -> None:
    target = resolve_target(GITLAB_MR, "o/r", 3, None, "github")
    assert (target.host, target.repo, target.number) == ("github", "o/r", 3)
    assert target.api_url == "https://api.github.com" and target.project_id is None
    # --repo names another project: the pipeline's numeric id is not its id
    other = resolve_target(GITLAB_MR, "other/project", None, None, "gitlab")
    assert (other.repo, other.project_id, other.number) == ("other/project", None, 7)
    with pytest.raises(UsageError, match="no merge request to post to: CI_MERGE_REQUEST_IID"):
        resolve_target({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r"}, "g/p", None, None, "gitlab")


@pytest.mark.parametrize(
    ("host", "repo", "ok"),
    [
        ("gitlab", "group/sub/sub2/project", True),
        ("gitlab", "project", False),
        ("gitlab", "group/../secret", False),
        ("github", "group/sub/project", False),
        ("github", "owner/./x", False),
        ("gitea", "owner/name", True),
        ("gitea", "owner/na me", False),
    ],
)
def test_repo_is_checked_per_host(host: str, repo: str, ok: bool) -> None:
    env = {**GITLAB_MR, "CI_API_V4_URL": "https://gitlab.example.com/api/v4"}
    url = "https://host.example/api"
    if ok:
        assert resolve_target(env, repo, 1, url, host).repo == repo
        return
    with pytest.raises(UsageError, match=r"to post to: --repo .* is not (OWNER/NAME|GROUP/PROJECT)"):
        resolve_target(env, repo, 1, url, host)


def test_the_gitea_host_is_gitea_or_forgejo_as_its_own_runner_says(tmp_path: Path) -> None:
    assert resolve_target(gitea_env(tmp_path), None, None, None).forgejo is False
    forgejo = gitea_env(tmp_path, FORGEJO_ACTIONS="true")  # forgejo/runner sets both
    assert resolve_target(forgejo, None, None, None).forgejo is True
    # `--host gitea` from another CI (or a shell): nothing says which.
    elsewhere = {"GITHUB_ACTIONS": "true"}
    assert resolve_target(elsewhere, "o/r", 1, "https://git.example/api/v1", "gitea").forgejo is None
    assert resolve_target({}, "o/r", 1, "https://git.example/api/v1", "gitea").forgejo is None
    assert resolve_target(forgejo, None, None, None, "github").forgejo is None
    host = open_host(resolve_target(forgejo, None, None, None), "t", forgejo, max_wait=0)
    try:  # the host's messages name Forgejo, and its change request is a pull request
        assert (host.name, host.request) == ("Forgejo", "pull request")
    finally:
        host.close()
    with pytest.raises(UsageError, match="^no Forgejo API URL: neither GITHUB_API_URL"):
        resolve_target({"FORGEJO_ACTIONS": "true", "GITEA_ACTIONS": "true"}, "o/r", 1, None)
    with pytest.raises(UsageError, match="^no Gitea/Forgejo API URL: neither GITHUB_API_URL"):
        resolve_target({}, "o/r", 1, None, "gitea")


def test_each_missing_piece_names_its_flag_and_variable() -> None:
    pipeline = {k: v for k, v in GITLAB_MR.items() if k != "CI_MERGE_REQUEST_IID"}
    with pytest.raises(UsageError) as info:
        resolve_target(pipeline, None, None, None)
    assert "this is not a merge request pipeline" in info.value.message
    assert "merge_request_event" in (info.value.hint or "") and "--pr" in (info.value.hint or "")
    with pytest.raises(UsageError, match="CI_API_V4_URL is not set") as info:
        resolve_target({"GITLAB_CI": "true"}, "g/p", 1, None)
    assert "--api-url" in (info.value.hint or "")
    with pytest.raises(UsageError, match="CI_PROJECT_PATH is not set"):
        resolve_target({"GITLAB_CI": "true"}, None, 1, None)
    with pytest.raises(UsageError, match="neither GITHUB_API_URL nor GITHUB_SERVER_URL"):
        resolve_target({"GITEA_ACTIONS": "true"}, "o/r", 1, None)
    with pytest.raises(UsageError, match=r"^--api-url='http://gitea.example.com' .*unencrypted"):
        resolve_target({"GITEA_ACTIONS": "true"}, "o/r", 1, "http://gitea.example.com")


def test_each_host_reads_its_own_token_variables() -> None:
    env = {"GITHUB_TOKEN": "gh", "GITLAB_TOKEN": "gl", "GITEA_TOKEN": "gt", "CI_JOB_TOKEN": "job"}
    assert [token_for(h, env) for h in ("github", "gitlab", "gitea")] == ["gh", "gl", "gt"]
    preferred = {**env, "REVIEWER_GITLAB_TOKEN": "rgl", "REVIEWER_GITEA_TOKEN": "rgt"}
    assert (token_for("gitlab", preferred), token_for("gitea", preferred)) == ("rgl", "rgt")
    assert token_for("gitea", {"GITHUB_TOKEN": "job-of-gitea"}) == "job-of-gitea"
    assert token_for("gitlab", {"CI_JOB_TOKEN": "job", "GITHUB_TOKEN": "gh"}) == ""  # never used
    said = missing_token("gitlab", {"CI_JOB_TOKEN": "job"})
    assert "CI_JOB_TOKEN cannot write merge request notes" in said.message
    assert "api" in (said.hint or "") and "REVIEWER_GITLAB_TOKEN" in (said.hint or "")
    assert "CI_JOB_TOKEN" not in missing_token("gitlab", {}).message


# --- open_host: the module is picked by the target's host name ---------------------------------


def test_open_host_reaches_github_through_its_connect() -> None:
    target = Target("http://127.0.0.1:9", "o/r", 1, host="github", in_actions=True)
    host = open_host(target, "t", {}, max_wait=0)
    try:
        assert isinstance(host, GitHubHost) and host.client.api_url == "http://127.0.0.1:9"
    finally:
        host.close()


def test_a_host_without_its_module_is_a_clear_post_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes the import fail exactly as a missing module does
    monkeypatch.setitem(sys.modules, "reviewer.post.hosts.gitea", None)
    target = Target("https://gitea.example.com/api/v1", "o/r", 1, host="gitea")
    with pytest.raises(PostError, match="cannot post to gitea yet") as info:
        open_host(target, "t", {}, max_wait=0)
    assert info.value.exit_code is ExitCode.NOT_REVIEWED
    with pytest.raises(PostError, match="unknown host 'os'"):
        host_module("os")  # only the hosts' own names are ever imported


def recording(host: MemoryHost, seen: list[tuple[Target, str]]) -> Callable[..., Host]:
    def connect(target: Target, token: str, env: Mapping[str, str], **_: object) -> Host:
        seen.append((target, token))
        return host

    return connect


def test_reviewer_post_in_a_gitlab_pipeline_opens_the_gitlab_target(tmp_path: Path) -> None:
    """The whole core, host-neutral: GitLab's target and token reach the opener, the report
    names the merge request as GitLab does, and the verdict is a commit status."""
    path = tmp_path / "findings.json"
    path.write_text(document().model_dump_json())
    seen: list[tuple[Target, str]] = []
    host = MemoryHost({"src/app.py": APP_PATCH, "README.md": README_PATCH}, head_sha=HEAD)
    env = {**GITLAB_MR, "CI_COMMIT_SHA": HEAD, "REVIEWER_GITLAB_TOKEN": "glpat-x", "GITHUB_TOKEN": "no"}
    err = io.StringIO()
    code = post_command(PostSettings(findings=path), env, out=io.StringIO(), err=err, connect=recording(host, seen))
    assert code is ExitCode.OK
    ((target, token),) = seen
    assert (target.host, target.repo, target.project_id, token) == ("gitlab", "group/sub/app", 42, "glpat-x")
    assert err.getvalue().startswith("reviewer: group/sub/app!7: ") and "commit status 'reviewer'" in err.getvalue()
    assert host.writes == ["review", "note", "status"]


def test_annotations_fallback_is_refused_on_gitlab_before_anything(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text(document().model_dump_json())
    seen: list[tuple[Target, str]] = []
    out = io.StringIO()
    with pytest.raises(UsageError, match="GitLab CI does not read") as info:
        post_command(
            PostSettings(findings=path, annotations_fallback=True), GITLAB_MR, out=out,
            connect=recording(MemoryHost({}), seen),
        )
    assert "--format codequality" in (info.value.hint or "") and seen == [] and out.getvalue() == ""
