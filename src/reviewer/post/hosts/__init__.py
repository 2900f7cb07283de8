"""The host modules (one per code host) and the one function that picks a host: the poster
reaches a host module only through `open_host`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from reviewer.post.host import Host
from reviewer.post.target import Target
from reviewer.post.transport import transport_for


class HostOpener(Protocol):
    """What `reviewer post` opens its host with: open_host, or a test's in-memory host."""

    def __call__(
        self,
        target: Target,
        token: str,
        env: Mapping[str, str],
        *,
        max_wait: float,
        sleep: Callable[[float], None],
    ) -> Host: ...


def open_host(
    target: Target,
    token: str,
    env: Mapping[str, str],
    *,
    max_wait: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Host:
    """The host the change request lives on, reached through post.transport's route for its
    API URL. GitHub is the only host so far."""
    from reviewer.post.hosts.github import GitHubClient, GitHubHost
    from reviewer.post.hosts.rest import RetryPolicy

    route = transport_for(target.api_url, env)
    policy = RetryPolicy(max_wait_s=max_wait)
    client = GitHubClient(target.api_url, token, policy=policy, sleep=sleep, transport=route)
    return GitHubHost(client, target, in_actions=env.get("GITHUB_ACTIONS") == "true")
