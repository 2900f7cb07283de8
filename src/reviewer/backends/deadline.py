"""The network backend under the model clients: a total deadline for one HTTP request, enforced
on every socket operation, and the egress policy applied to the addresses actually connected to.

httpx's timeouts apply to each read on its own, so a server that trickles a byte a second (in
the headers or in the body) would never trip them. This network backend caps every connect,
read and write by the time left on the deadline of the request in progress, so a request
ends at its deadline whatever the server does.

A host name is resolved here, once per connection, every address is checked against the
local-model policy, and the socket connects to a checked address (not to the name, which would
be looked up again: DNS rebinding between the check and the connect). The request keeps the
name in its Host header and for TLS."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from reviewer.security import check_resolved

# The monotonic end time of the request in progress in this thread (None: no deadline).
_END: ContextVar[float | None] = ContextVar("reviewer_request_deadline", default=None)


@contextmanager
def deadline_applied(end: float) -> Iterator[None]:
    """Every socket operation inside this block ends by `end` (a time.monotonic() value)."""
    token = _END.set(end)
    try:
        yield
    finally:
        _END.reset(token)


def _capped(timeout: float | None, error: type[Exception]) -> float | None:
    end = _END.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the request's total deadline has passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _capped(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _capped(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        capped = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, capped))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to for a TCP connection, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise httpcore.ConnectError(f"cannot resolve {host!r}: {e}") from e
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, local_only: bool) -> None:
        self._inner = httpcore.SyncBackend()
        self._local_only = local_only

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if not self._local_only:  # --allow-remote-model: the policy is skipped
            capped = _capped(timeout, httpcore.ConnectTimeout)
            stream = self._inner.connect_tcp(host, port, capped, local_address, socket_options)
            return _DeadlineStream(stream)
        addresses = resolve(host, port)
        check_resolved(host, addresses)  # PolicyError: nothing is connected to
        error: httpcore.ConnectError | None = None
        for address in addresses:
            capped = _capped(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(
                    address, port, capped, local_address, socket_options
                )
            except httpcore.ConnectError as e:
                error = e
                continue
            return _DeadlineStream(stream)
        assert error is not None  # noqa: S101 - resolve() returned at least one address
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        capped = _capped(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.connect_unix_socket(path, capped, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport with its connection pool built on the deadline backend. httpx
    has no public hook for a network backend, so the pool it builds is replaced (same
    settings as httpx's defaults, no proxy: the model server is local). With `local_only`
    every connection is checked against the egress policy by its resolved addresses."""

    def __init__(self, local_only: bool = True) -> None:
        super().__init__(trust_env=False)
        limits = httpx.Limits()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(local_only),
        )
