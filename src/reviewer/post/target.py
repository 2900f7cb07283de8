"""Where to post: the host, the repository (GitLab: the project), the pull request (GitLab: the
merge request's IID) and the API URL, from the flags or from what the CI environment says
(ci.environment.detect). A missing piece is one usage error naming its flag and variable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from reviewer.ci.environment import CiContext, Host, detect, host_of, valid_project
from reviewer.errors import UsageError
from reviewer.security import check_token_url

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_CHECK_NAME = "reviewer"  # the check run's name, which branch protection requires


class PostHost(StrEnum):
    """The hosts `reviewer post` posts to: ci.environment.Host without "none"."""

    GITHUB = Host.GITHUB.value
    GITLAB = Host.GITLAB.value
    GITEA = Host.GITEA.value


POST_HOSTS = tuple(PostHost)


@dataclass(frozen=True)
class Target:
    api_url: str
    repo: str  # owner/name; on GitLab the project's full path (group/subgroup/project)
    number: int  # the pull request's number; on GitLab the merge request's IID
    head_sha: str | None = None  # from the event; the API's current head wins when posting
    host: str = Host.GITHUB.value  # "github", "gitlab" or "gitea" (Forgejo included)
    project_id: int | None = None  # GitLab's numeric project id, when the pipeline gives it
    in_actions: bool = False  # the job runs in an Actions runner (GitHub's, Gitea's, Forgejo's)
    # On the gitea host: Forgejo (True) or Gitea (False) as its own Actions runner says; None
    # when the job runs elsewhere and nothing says which.
    forgejo: bool | None = None

    @property
    def reference(self) -> str:
        """How the host's users write the request: owner/name#7, or group/project!7 on GitLab."""
        mark = "!" if self.host == Host.GITLAB else "#"
        return f"{self.repo}{mark}{self.number}"


def post_host(flag: str | None, env: Mapping[str, str]) -> Host:
    """--host when given, else the CI that runs the job; outside CI, GitHub."""
    if flag:
        return Host(flag)
    detected = host_of(env)
    return Host.GITHUB if detected is Host.NONE else detected


def resolve_target(
    env: Mapping[str, str],
    repo: str | None,
    pr: int | None,
    api_url: str | None,
    host: str | None = None,
) -> Target:
    chosen = post_host(host, env)
    context = detect(env, host=chosen)
    forgejo = _forgejo(chosen, env, context)
    return Target(
        repo=_repo(chosen, repo, context),
        number=_number(chosen, pr, context),
        api_url=(
            check_token_url(api_url, "--api-url") if api_url else _api_url(chosen, context, forgejo)
        ),
        head_sha=None if pr else context.head_sha,
        host=chosen.value,
        # the id is the environment's project's: not the one --repo names
        project_id=None if repo else context.project_id,
        in_actions=env.get("GITHUB_ACTIONS") == "true",
        forgejo=forgejo,
    )


def _forgejo(host: Host, env: Mapping[str, str], context: CiContext) -> bool | None:
    """Whether the gitea host is Forgejo, known only inside its own Actions (whose runner says
    which); `--host gitea` from another CI or a shell cannot tell."""
    if host is not Host.GITEA or host_of(env) is not Host.GITEA:
        return None
    return context.forgejo


def gitea_name(forgejo: bool | None) -> str:
    """What messages call a host with Gitea's API (Forgejo has the same one): the one its
    Actions runner names, else both."""
    if forgejo is None:
        return "Gitea/Forgejo"
    return "Forgejo" if forgejo else "Gitea"


def _repo(host: Host, flag: str | None, context: CiContext) -> str:
    gitlab = host is Host.GITLAB
    what = "project" if gitlab else "repository"
    shape = "GROUP/PROJECT (the project's full path)" if gitlab else "OWNER/NAME"
    if flag is not None:
        if not valid_project(flag, host):
            raise UsageError(
                f"no {what} to post to: --repo {flag[:80]!r} is not {shape}",
                hint=f"pass --repo {shape}",
            )
        return flag
    if context.project is not None:
        return context.project
    variable = "CI_PROJECT_PATH" if gitlab else "GITHUB_REPOSITORY"
    raise UsageError(
        f"no {what} to post to: {variable} is not set", hint=f"pass --repo {shape}"
    )


def _number(host: Host, flag: int | None, context: CiContext) -> int:
    number = flag or context.number
    if number is not None:
        return number
    if host is Host.GITLAB:
        raise UsageError(
            "no merge request to post to: CI_MERGE_REQUEST_IID is not set (this is not a merge "
            "request pipeline)",
            hint='run the job in merge request pipelines (`rules: - if: $CI_PIPELINE_SOURCE == '
            '"merge_request_event"`), or pass --pr IID',
        )
    raise UsageError(
        "no pull request to post to: this is not a pull_request event",
        hint="pass --pr N, or run on a pull_request event (GITHUB_EVENT_PATH)",
    )


def _api_url(host: Host, context: CiContext, forgejo: bool | None) -> str:
    if context.api_url is not None:
        return context.api_url
    if host is Host.GITHUB:
        return DEFAULT_API_URL
    if host is Host.GITLAB:
        raise UsageError(
            "no GitLab API URL: CI_API_V4_URL is not set",
            hint="pass --api-url https://gitlab.example.com/api/v4",
        )
    raise UsageError(
        f"no {gitea_name(forgejo)} API URL: neither GITHUB_API_URL nor GITHUB_SERVER_URL is set",
        hint="pass --api-url https://gitea.example.com/api/v1",
    )
