"""The poster's token: read from the environment only (no flag puts it in a process list or a
log), from each host's own variables, and what to say when there is none."""

from __future__ import annotations

from collections.abc import Mapping

from reviewer.ci.environment import Host
from reviewer.errors import UsageError

# The variables each host's token is read from, first set wins. GitLab's CI_JOB_TOKEN is never
# one of them: it cannot write merge request notes. Gitea and Forgejo Actions give the job a
# GITHUB_TOKEN of their own (with write access to the repository's pull requests).
TOKEN_VARIABLES: Mapping[Host, tuple[str, ...]] = {
    Host.GITHUB: ("GITHUB_TOKEN",),
    Host.GITLAB: ("REVIEWER_GITLAB_TOKEN", "GITLAB_TOKEN"),
    Host.GITEA: ("REVIEWER_GITEA_TOKEN", "GITEA_TOKEN", "GITHUB_TOKEN"),
}

_HINTS = {
    Host.GITHUB: "pass `GITHUB_TOKEN: ${{ github.token }}` with `pull-requests: write` (and "
    "`checks: write` for the check run), or use --annotations-fallback (forks)",
    Host.GITLAB: "create a project access token with the `api` scope and store it in a masked, "
    "protected CI/CD variable REVIEWER_GITLAB_TOKEN; without one, run `reviewer run --format "
    "codequality` in the review job for a Code Quality report",
    Host.GITEA: "pass `REVIEWER_GITEA_TOKEN` (a token with write access to the repository's "
    "issues and pull requests), or the job's `GITHUB_TOKEN: ${{ github.token }}`; or use "
    "--annotations-fallback (forks)",
}


def token_for(host: Host | str, env: Mapping[str, str]) -> str:
    """The token for `host`, or "" when none of its variables is set."""
    for name in TOKEN_VARIABLES[Host(host)]:
        value = env.get(name, "").strip()
        if value:
            return value
    return ""


def token_names(host: Host | str) -> str:
    """The host's token variables for messages: `REVIEWER_GITLAB_TOKEN or GITLAB_TOKEN`."""
    return " or ".join(TOKEN_VARIABLES[Host(host)])


def missing_token(host: Host | str, env: Mapping[str, str]) -> UsageError:
    """The error for a post without a token, in the host's terms."""
    host = Host(host)
    message = f"{token_names(host)} is not set: nothing can be posted"
    if host is Host.GITLAB and env.get("CI_JOB_TOKEN"):
        message += " (CI_JOB_TOKEN cannot write merge request notes, so it is not used)"
    return UsageError(message, hint=_HINTS[host])


def annotations_refused() -> UsageError:
    """--annotations-fallback prints workflow commands, which only Actions runners read."""
    return UsageError(
        "--annotations-fallback prints GitHub workflow commands, which GitLab CI does not read",
        hint="run `reviewer run --format codequality` in the review job and keep the file as "
        "`artifacts: reports: codequality` for GitLab's Code Quality widget",
    )
