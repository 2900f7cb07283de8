"""Where to post: repository, pull request and API URL from flags or the GitHub Actions
environment (GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from reviewer.ci.event import read_event
from reviewer.errors import UsageError
from reviewer.security import is_loopback_host

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_CHECK_NAME = "reviewer"  # the check run's name, which branch protection requires
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Target:
    api_url: str
    repo: str  # owner/name
    number: int
    head_sha: str | None = None  # from the event; the API's current head wins when posting


def check_api_url(url: str) -> str:
    """https, or plain http only to this machine: the token must not cross a network in clear."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return url.rstrip("/")
    if parts.scheme == "http" and is_loopback_host(host):
        return url.rstrip("/")
    raise UsageError(
        f"refusing GitHub API URL {url!r}: the token would travel unencrypted",
        hint="use an https:// URL (GITHUB_API_URL or --api-url); plain http is allowed only "
        "to this machine (127.0.0.1, ::1, localhost)",
    )


def resolve_target(
    env: Mapping[str, str], repo: str | None, pr: int | None, api_url: str | None
) -> Target:
    event = read_event(env)
    number, sha = event.number, event.head_sha
    repo = repo or env.get("GITHUB_REPOSITORY")
    if not repo or not _REPO.fullmatch(repo):
        raise UsageError(
            f"no repository to post to (got {repo!r})",
            hint="pass --repo OWNER/NAME or set GITHUB_REPOSITORY",
        )
    number = pr or number
    if number is None:
        raise UsageError(
            "no pull request to post to: this is not a pull_request event",
            hint="pass --pr N, or run on a pull_request event (GITHUB_EVENT_PATH)",
        )
    url = check_api_url(api_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL)
    return Target(api_url=url, repo=repo, number=number, head_sha=sha if not pr else None)
