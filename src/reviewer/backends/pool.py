"""Several model servers for one review: one backend per server, the preflight of every one
(the same model with the same digest everywhere, or the review stops: it must not mix
models), and which servers are still in the rotation. The review loop (review/loop.py) spreads
the chunks over the servers' request slots and takes a failing server out."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from reviewer.backends.digest import MIN_PREFIX, normalise_digest
from reviewer.backends.http import display_url
from reviewer.backends.interface import ModelBackend, ServerInfo, TransientModelError
from reviewer.errors import ModelError
from reviewer.settings.config import Backend
from reviewer.settings.slices import ModelSettings


@dataclass
class Server:
    """One server of the pool: where it is, its backend, and how many requests it takes at
    once (Ollama: one; an OpenAI-compatible server: --concurrency)."""

    url: str  # as shown in messages and the findings document: no user info
    backend: ModelBackend
    slots: int
    dropped: ModelError | None = None  # why it was taken out of the rotation


class ServerPool:
    """The review's model servers, in the order given."""

    def __init__(self, servers: list[Server]) -> None:
        self.servers = servers
        self._lock = threading.Lock()

    @classmethod
    def open(
        cls, settings: ModelSettings, make: Callable[[ModelSettings], ModelBackend] | None = None
    ) -> ServerPool:
        """A backend for every server of the settings (checked first: backends.make_backend)."""
        from reviewer.backends import make_backend

        build = make if make is not None else make_backend
        slots = 1 if settings.backend is Backend.OLLAMA else settings.concurrency
        servers: list[Server] = []
        try:
            for url in settings.server_urls:  # one at a time: a failure closes those made
                backend = build(settings.for_server(url))
                servers.append(Server(display_url(url), backend, slots))
        except BaseException:
            for server in servers:
                server.backend.close()
            raise
        return cls(servers)

    @classmethod
    def of(cls, settings: ModelSettings, backend: ModelBackend) -> ServerPool:
        """One backend the caller made (and closes): a pool of one server."""
        slots = 1 if settings.backend is Backend.OLLAMA else settings.concurrency
        return cls([Server(display_url(settings.base_url), backend, slots)])

    @property
    def live(self) -> list[Server]:
        with self._lock:
            return [s for s in self.servers if s.dropped is None]

    def drop(self, server: Server, error: ModelError) -> bool:
        """Take `server` out of the rotation; False when it already was."""
        with self._lock:
            if server.dropped is not None:
                return False
            server.dropped = error
            return True

    def preflight(self) -> ServerInfo:
        """Preflight every server. A server that cannot be reached (after the backend's
        bounded retries) is taken out of the rotation; any other failure stops the review, as
        does a model or digest that differs between two servers. With every server out, the
        first one's error is raised: the review fails closed as with one server."""
        answered: list[tuple[Server, ServerInfo]] = []
        for server in self.live:
            try:
                answered.append((server, server.backend.preflight()))
            except TransientModelError as e:
                self.drop(server, e)
        if not answered:
            raise next(s.dropped for s in self.servers if s.dropped is not None)
        check_same_model(answered)
        return answered[0][1]

    def close(self) -> None:
        for server in self.servers:
            server.backend.close()


def check_same_model(answered: list[tuple[Server, ServerInfo]]) -> None:
    """Every server serves the model with one digest (or none reports one): a review must
    not mix models. A ModelError naming the first two servers that differ."""
    first, info = answered[0]
    want = _digest(info)
    for server, other in answered[1:]:
        if _digest(other) != want:
            raise ModelError(
                f"model {info.model} has digest {_shown(info)} on {first.url} but "
                f"{_shown(other)} on {server.url}",
                f"a review must not mix models: pull the same {info.model} on every server "
                "(and pin it with --model-digest)",
                kind="digest_mismatch",
            )


def _digest(info: ServerInfo) -> str | None:
    # None (not reported) never matches a digest another server reports.
    return None if info.digest is None else normalise_digest(info.digest)


def _shown(info: ServerInfo) -> str:
    digest = _digest(info)
    return "none reported" if digest is None else digest[:MIN_PREFIX]
