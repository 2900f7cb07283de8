"""The host modules (one per code host: github, gitlab, gitea) and the one function that picks
one: the poster reaches a host module only through `open_host`. Each module has
`connect(target, token, *, transport, policy, sleep) -> Host`; the module is imported by the
target's host name, so a new host module needs no edit here."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Protocol

from reviewer.errors import PostError
from reviewer.post.host import Host
from reviewer.post.target import POST_HOSTS, Target
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
    """The host the change request lives on (target.host), reached through post.transport's
    route for its API URL, with a retry budget of `max_wait` seconds."""
    from reviewer.post.hosts.rest import RetryPolicy

    module = host_module(target.host)
    route = transport_for(target.api_url, env)
    policy = RetryPolicy(max_wait_s=max_wait)
    connect: Callable[..., Host] = module.connect
    return connect(target, token, transport=route, policy=policy, sleep=sleep)


def host_module(name: str) -> ModuleType:
    """`reviewer.post.hosts.<name>` for one of the hosts `reviewer post` knows; only those
    names are ever imported."""
    if name not in POST_HOSTS:
        raise PostError(f"unknown host {name!r}", hint=f"--host is one of: {', '.join(POST_HOSTS)}")
    qualified = f"{__name__}.{name}"
    try:
        return importlib.import_module(qualified)
    except ModuleNotFoundError as e:
        if e.name != qualified:  # a missing dependency inside the module: a bug, not ours
            raise
        raise PostError(
            f"this reviewer cannot post to {name} yet: it has no {qualified} module",
            hint="upgrade reviewer, or pass --dry-run to see what would be posted",
        ) from None
