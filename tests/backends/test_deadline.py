"""backends/deadline.py through httpx and real sockets on 127.0.0.1: the total deadline caps
every connect, read and write, and with `local_only` a connection goes only to addresses the
egress policy accepted, trying each in turn. The resolver is replaced in-process (the seam
tests/backends/test_resolved_egress.py uses); every connection is real. These are the fast
checks mutation testing runs (docs/mutation-testing.md)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx
import pytest
from pytest_httpserver import HTTPServer

from reviewer.backends.deadline import DeadlineTransport, deadline_applied, resolve
from reviewer.errors import PolicyError

REAL_GETADDRINFO = socket.getaddrinfo
PUBLIC = "203.0.113.7"  # TEST-NET-3: never routed


def resolving(monkeypatch: pytest.MonkeyPatch, name: str, addresses: list[str]) -> list[str]:
    """`name` resolves to `addresses` (others as usual); returns the log of lookups of it."""
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        lookups.append(host)
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def client(local_only: bool = True) -> httpx.Client:
    return httpx.Client(transport=DeadlineTransport(local_only=local_only), timeout=30)


TRICKLE_FOR = 4.0  # seconds a slow answer lasts before the server hangs up


@contextmanager
def loopback_server(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A server on 127.0.0.1 that reads each request and lets `answer` reply, one connection
    at a time; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                answer(conn, stop)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def _trickle(conn: socket.socket, stop: threading.Event) -> None:
    until = time.monotonic() + TRICKLE_FOR
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
        if stop.wait(0.1) or time.monotonic() > until:
            return
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return


def _stall(conn: socket.socket, stop: threading.Event) -> None:
    stop.wait(TRICKLE_FOR)


@pytest.fixture
def trickle() -> Iterator[int]:
    """Answers with one header byte every 0.1 s for TRICKLE_FOR seconds, then hangs up (each
    read is well within any per-read timeout; hanging up bounds a run whose deadline fails)."""
    with loopback_server(_trickle) as port:
        yield port


@pytest.fixture
def stall() -> Iterator[int]:
    """Says nothing, and hangs up after TRICKLE_FOR seconds."""
    with loopback_server(_stall) as port:
        yield port


def test_a_shorter_read_timeout_still_applies_within_the_deadline(stall: int) -> None:
    started = time.monotonic()
    transport = DeadlineTransport(local_only=True)
    with (
        httpx.Client(transport=transport, timeout=0.5) as c,
        deadline_applied(started + 60),
        pytest.raises(httpx.ReadTimeout),
    ):
        c.get(f"http://127.0.0.1:{stall}/")
    assert time.monotonic() - started < TRICKLE_FOR


def test_without_a_read_timeout_the_deadline_alone_ends_the_request(stall: int) -> None:
    transport = DeadlineTransport(local_only=True)
    with httpx.Client(transport=transport, timeout=None) as c:  # noqa: S113 - on purpose
        started = time.monotonic()
        with deadline_applied(started + 1.5), pytest.raises(httpx.TimeoutException):
            c.get(f"http://127.0.0.1:{stall}/")
    assert time.monotonic() - started < TRICKLE_FOR


def test_the_transport_checks_the_policy_unless_told_otherwise(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolving(monkeypatch, "model", [PUBLIC])
    with httpx.Client(transport=DeadlineTransport()) as c, pytest.raises(PolicyError):
        c.get(f"http://model:{server.port}/")
    assert server.log == []


def test_without_a_deadline_requests_run_as_usual(server: HTTPServer) -> None:
    server.expect_request("/api/version").respond_with_json({"version": "1"})
    with client() as c:
        assert c.get(server.url_for("/api/version")).json() == {"version": "1"}


def test_a_trickling_answer_ends_at_the_deadline(trickle: int) -> None:
    with client() as c:
        started = time.monotonic()
        with deadline_applied(started + 1.5), pytest.raises(httpx.ReadTimeout):
            c.get(f"http://127.0.0.1:{trickle}/")
    assert time.monotonic() - started < TRICKLE_FOR


def test_a_deadline_already_passed_refuses_to_connect(server: HTTPServer) -> None:
    server.expect_request("/").respond_with_data("never")
    with (
        client() as c,
        deadline_applied(time.monotonic() - 1),
        pytest.raises(httpx.ConnectTimeout),
    ):
        c.get(server.url_for("/"))
    assert server.log == []


def test_a_deadline_already_passed_refuses_to_connect_without_the_policy(
    server: HTTPServer,
) -> None:
    server.expect_request("/").respond_with_data("never")
    with (
        client(local_only=False) as c,
        deadline_applied(time.monotonic() - 1),
        pytest.raises(httpx.ConnectTimeout),
    ):
        c.get(server.url_for("/"))
    assert server.log == []


def test_the_deadline_ends_with_its_block(server: HTTPServer) -> None:
    server.expect_request("/").respond_with_data("ok")
    with client() as c:
        with deadline_applied(time.monotonic() + 30):
            assert c.get(server.url_for("/")).text == "ok"
        time.sleep(0.01)
        with deadline_applied(time.monotonic() - 1), pytest.raises(httpx.TimeoutException):
            c.get(server.url_for("/"))
        assert c.get(server.url_for("/")).text == "ok"  # no deadline left behind


def test_a_name_resolving_outside_the_policy_is_never_connected_to(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.expect_request("/").respond_with_data("never")
    lookups = resolving(monkeypatch, "model", ["127.0.0.1", PUBLIC])
    with client() as c, pytest.raises(PolicyError, match=f"resolves to {PUBLIC}"):
        c.get(f"http://model:{server.port}/")
    assert lookups == ["model"]
    assert server.log == []


def test_each_checked_address_is_tried_in_turn(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.2 is loopback too but nothing listens there on this port: refused, so the
    # next checked address is tried, and the request keeps the name in its Host header.
    server.expect_request("/").respond_with_data("ok")
    closed = socket.create_server(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    resolving(monkeypatch, "model", ["127.0.0.2", "127.0.0.1"])
    with client() as c:
        assert c.get(f"http://model:{server.port}/").text == "ok"
        with pytest.raises(httpx.ConnectError):
            c.get(f"http://model:{closed_port}/")
    ((request, _),) = server.log
    assert request.headers["Host"] == f"model:{server.port}"


def test_without_the_policy_the_name_is_connected_to_as_given(
    server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.expect_request("/").respond_with_data("ok")
    lookups = resolving(monkeypatch, "model", ["127.0.0.1"])
    with client(local_only=False) as c:
        assert c.get(f"http://model:{server.port}/").text == "ok"
    assert lookups == ["model"]  # by the socket library's own connect, not by the policy


def test_resolve_keeps_the_resolvers_order_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    resolving(monkeypatch, "model", ["127.0.0.2", "127.0.0.1", "127.0.0.2", "::1"])
    assert resolve("model", 80) == ["127.0.0.2", "127.0.0.1", "::1"]


def test_a_name_that_does_not_resolve_is_a_connect_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(httpcore.ConnectError, match="cannot resolve"):
        resolve("a" * 300, 80)  # a label too long for IDNA: UnicodeError, not a traceback

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(httpcore.ConnectError, match=r"\Acannot resolve 'nowhere': "):
        resolve("nowhere", 80)
