"""What the CI environment says about the job: which host runs it (GitHub Actions, GitLab CI,
Gitea/Forgejo Actions, or none: a developer's shell), the pull or merge request, where the
host's API is, and the base and head commits of the request. Read once, by `detect`, for the
diff source's defaults and the poster's host; every value is checked, and a bad one is a
one-line usage error naming its variable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from reviewer.ci.event import EVENT_PATH_ENV, EventFileError, PullRequestEvent, read_event
from reviewer.errors import UsageError
from reviewer.security import check_token_url


class Host(StrEnum):
    GITHUB = "github"
    GITLAB = "gitlab"
    GITEA = "gitea"  # Gitea and Forgejo: one API (v1)
    NONE = "none"


@dataclass(frozen=True)
class CiContext:
    """What the environment says; None wherever it says nothing."""

    host: Host = Host.NONE
    number: int | None = None  # the pull request's number, or the merge request's IID
    project: str | None = None  # owner/name (GitHub, Gitea) or GitLab's namespace/project path
    project_id: int | None = None  # GitLab's numeric project id
    api_url: str | None = None  # the host's API root, without a trailing slash
    base_sha: str | None = None  # the request's base commit
    head_sha: str | None = None  # the request's own head: never a merge commit CI made
    base_branch: str | None = None  # the target branch, for `origin/<branch>` without a SHA
    forgejo: bool = False  # a Forgejo runner (same API as Gitea; said for messages)
    # The request's title and description: the author's own words, untrusted and unchecked
    # (the prompt frames and bounds them, chunks/intent.py).
    title: str | None = None
    description: str | None = None


def host_of(env: Mapping[str, str]) -> Host:
    """Which CI runs the job, by the variables each sets; nothing else is read or checked.
    Gitea and Forgejo runners also set GITHUB_ACTIONS, so they are recognised first."""
    if _flag(env, "GITLAB_CI"):
        return Host.GITLAB
    # forgejo/runner sets GITEA_ACTIONS and FORGEJO_ACTIONS to "true" (act/runner/runner.go);
    # Gitea's act_runner sets GITEA_ACTIONS (internal/app/run/runner.go).
    if _flag(env, "GITEA_ACTIONS") or _flag(env, "FORGEJO_ACTIONS"):
        return Host.GITEA
    if _flag(env, "GITHUB_ACTIONS") or env.get(EVENT_PATH_ENV):
        return Host.GITHUB
    return Host.NONE


def detect(
    env: Mapping[str, str], *, strict_event: bool = True, host: Host | None = None
) -> CiContext:
    """The CI context of `env`, every value checked (UsageError naming the variable). An
    event file that cannot be read is an EventFileError, or with strict_event=False an event
    that names no pull request. `host` reads the variables of that host's CI whichever CI runs
    the job (`reviewer post --host`): a GitLab job told `--host github` reads no CI_* value."""
    host = host or host_of(env)
    if host is Host.GITLAB:
        return _gitlab(env)
    if host is Host.NONE:
        return CiContext()
    return _actions(env, host, strict_event=strict_event)


def fetch_hint(host: Host) -> str:
    """How the host's CI makes a missing commit present, for the hints of `unknown ref` and
    of a range without a merge base."""
    if host is Host.GITLAB:
        return (
            "GitLab CI: set GIT_DEPTH: 0 (or enough depth) in the job's variables, and "
            "git fetch origin $CI_MERGE_REQUEST_TARGET_BRANCH_NAME if the target is missing"
        )
    return "actions/checkout with fetch-depth: 0"


# --- GitHub Actions and Gitea/Forgejo Actions: the GitHub-compatible event file ---------------


def _actions(env: Mapping[str, str], host: Host, *, strict_event: bool) -> CiContext:
    try:
        event = read_event(env)
    except EventFileError:
        if strict_event:
            raise
        event = PullRequestEvent()
    where = f"{EVENT_PATH_ENV} pull_request"
    return CiContext(
        host=host,
        number=event.number,
        project=_project(env, "GITHUB_REPOSITORY", host),
        api_url=_api_url(env, host),
        base_sha=_checked_sha(event.base_sha, f"{where}.base.sha"),
        head_sha=_checked_sha(event.head_sha, f"{where}.head.sha"),
        base_branch=_branch(env, "GITHUB_BASE_REF"),
        forgejo=_flag(env, "FORGEJO_ACTIONS"),
        title=event.title,
        description=event.body,
    )


def _api_url(env: Mapping[str, str], host: Host) -> str | None:
    if env.get("GITHUB_API_URL") or host is Host.GITHUB:
        return _url(env, "GITHUB_API_URL")
    # Gitea's runner sets GITHUB_API_URL to the server's /api/v1; derive it the same way when
    # only the server URL is there (nektos/act fork: pkg/runner/run_context.go, "Gitea is v1").
    server = _url(env, "GITHUB_SERVER_URL")
    return f"{server}/api/v1" if server else None


# --- GitLab CI merge-request pipelines ----------------------------------------------------------

# GitLab's predefined variables (gitlabhq/gitlabhq doc/ci/variables/predefined_variables.md,
# "Predefined variables for merge request pipelines"): CI_MERGE_REQUEST_EVENT_TYPE is
# `detached` (a merge request pipeline: CI_COMMIT_SHA is the source branch's head), or
# `merged_result` / `merge_train` (doc/ci/pipelines/merged_results_pipelines.md: CI_COMMIT_SHA
# is a merge commit GitLab made, and CI_MERGE_REQUEST_SOURCE_BRANCH_SHA, "present only in
# merged results pipelines", is the source head). A review names lines of the source head.
_MERGED = frozenset({"merged_result", "merge_train"})
_EVENT_TYPES = frozenset({"detached", *_MERGED})


def _gitlab(env: Mapping[str, str]) -> CiContext:
    pipeline = CiContext(
        host=Host.GITLAB,
        project=_project(env, "CI_PROJECT_PATH", Host.GITLAB),
        project_id=_positive(env, "CI_PROJECT_ID"),
        api_url=_url(env, "CI_API_V4_URL"),
    )
    number = _positive(env, "CI_MERGE_REQUEST_IID")
    if number is None:  # a branch or tag pipeline: no merge request, no range from GitLab
        return pipeline
    return replace(
        pipeline,
        # A merge request from a fork may run in the fork's project: the request itself (its
        # IID, its notes) lives in the target project, CI_MERGE_REQUEST_PROJECT_*.
        project=_project(env, "CI_MERGE_REQUEST_PROJECT_PATH", Host.GITLAB) or pipeline.project,
        project_id=_positive(env, "CI_MERGE_REQUEST_PROJECT_ID") or pipeline.project_id,
        number=number,
        base_sha=_sha(env, "CI_MERGE_REQUEST_DIFF_BASE_SHA"),
        head_sha=_gitlab_head(env),
        base_branch=_branch(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"),
        title=_value(env, "CI_MERGE_REQUEST_TITLE"),
        description=_value(env, "CI_MERGE_REQUEST_DESCRIPTION"),
    )


def _gitlab_head(env: Mapping[str, str]) -> str | None:
    kind = env.get("CI_MERGE_REQUEST_EVENT_TYPE") or "detached"
    if kind not in _EVENT_TYPES:
        raise _bad("CI_MERGE_REQUEST_EVENT_TYPE", kind, "detached, merged_result or merge_train")
    if kind == "detached":
        return _sha(env, "CI_COMMIT_SHA")
    head = _sha(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA")
    if head is None:  # never fall back to CI_COMMIT_SHA: that is the merged-results commit
        raise UsageError(
            f"CI_MERGE_REQUEST_SOURCE_BRANCH_SHA is not set in a {kind} pipeline: the checkout "
            "is a merge commit GitLab made, not the merge request's head",
            hint="pass --head with the merge request's head commit",
        )
    return head


# --- checked values -----------------------------------------------------------------------------

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 or SHA-256 object names
_OWNER_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_GITLAB_PATH = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+")  # group/subgroup/project
_BRANCH = re.compile(r"[^\x00-\x20\x7f~^:?*\[\\-][^\x00-\x20\x7f~^:?*\[\\]*")


def _bad(name: str, value: str, expected: str) -> UsageError:
    return UsageError(
        f"{name}={value[:80]!r} from the CI environment is not {expected}",
        hint="check the CI job's variables; in `reviewer run`, --base and --head skip this "
        "detection",
    )


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").lower() == "true"


def _value(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or None


def _sha(env: Mapping[str, str], name: str) -> str | None:
    return _checked_sha(_value(env, name), name)


def _checked_sha(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    if not _SHA.fullmatch(value):
        raise _bad(name, value, "a commit SHA (40 or 64 lowercase hex digits)")
    return value


def _positive(env: Mapping[str, str], name: str) -> int | None:
    value = _value(env, name)
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and int(value) > 0 and len(value) < 20):
        raise _bad(name, value, "a positive integer")
    return int(value)


def valid_project(value: str, host: Host) -> bool:
    """Whether `value` is a project path on `host`: owner/name, or on GitLab group/.../project.
    "." and ".." are never a part: they would walk out of the API path the poster builds."""
    pattern = _GITLAB_PATH if host is Host.GITLAB else _OWNER_NAME
    dots = any(part in {".", ".."} for part in value.split("/"))
    return not dots and pattern.fullmatch(value) is not None


def _project(env: Mapping[str, str], name: str, host: Host) -> str | None:
    value = _value(env, name)
    if value is not None and not valid_project(value, host):
        raise _bad(name, value, "a project path (owner/name)")
    return value


def _branch(env: Mapping[str, str], name: str) -> str | None:
    value = _value(env, name)
    if value is not None and (not _BRANCH.fullmatch(value) or ".." in value):
        raise _bad(name, value, "a branch name")
    return value


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = _value(env, name)
    return None if value is None else check_token_url(value, name)
