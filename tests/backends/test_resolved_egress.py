"""The egress policy on the addresses a model host name resolves to, at connect time: a
single-label name or `localhost` that resolves outside the local policy is refused before any
connection, one that resolves locally is connected to by its checked address (one lookup per
connection, so a second answer cannot rebind it) with the name kept in the Host header, and
--allow-remote-model skips the check. The resolver is replaced in-process (the test seam:
/etc/hosts cannot be edited safely); the server is a real fake Ollama on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from reviewer.cli.app import app
from tests.model_fakes import APP_DIFF, answer, finding, serve_ollama_chat, serve_ollama_preflight

REAL_GETADDRINFO = socket.getaddrinfo
PUBLIC = "203.0.113.7"  # TEST-NET-3: never routed


def fake_resolver(
    monkeypatch: pytest.MonkeyPatch, name: str, answers: Callable[[int], list[str]]
) -> list[str]:
    """Resolve `name` to answers(n) on the n-th lookup (others as usual); returns the log of
    every lookup of `name`."""
    lookups: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != name:
            return REAL_GETADDRINFO(host, port, *args, **kwargs)
        lookups.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
             (a, port) if ":" not in a else (a, port, 0, 0))
            for a in answers(len(lookups))
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def run(server: HTTPServer, host: str, tmp_path: Path, *extra: str) -> tuple[int, str, Path]:
    diff = tmp_path / "pr.diff"
    diff.write_text(APP_DIFF)
    out = tmp_path / "findings.json"
    result = CliRunner().invoke(
        app,
        ["run", "--diff-file", str(diff), "--ollama-url", f"http://{host}:{server.port}",
         "--no-cache", "--retries", "0", "--timeout", "5", "--output", str(out), *extra],
    )
    return result.exit_code, result.output, out


@pytest.mark.parametrize("host", ["ai", "localhost"])
@pytest.mark.parametrize(
    "addresses", [[PUBLIC], ["127.0.0.1", PUBLIC], ["2001:db8::1"], ["100.64.0.1"]]
)
def test_a_name_resolving_outside_the_policy_is_refused_before_connecting(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    host: str, addresses: list[str],
) -> None:
    serve_ollama_preflight(server)
    lookups = fake_resolver(monkeypatch, host, lambda _: addresses)
    code, output, out = run(server, host, tmp_path)
    assert code == 2, output
    outside = next(a for a in addresses if a != "127.0.0.1")
    assert f"model URL host '{host}' resolves to {outside}, outside the local-model policy" in (
        output
    )
    assert "--allow-remote-model" in output
    assert lookups == [host]
    assert server.log == []  # no connection was made
    assert not out.exists()


def test_a_name_resolving_locally_connects_to_the_checked_address(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(line=2)))
    lookups = fake_resolver(monkeypatch, "ai", lambda _: ["127.0.0.1"])
    code, output, out = run(server, "ai", tmp_path)
    assert code == 0, output
    assert json.loads(out.read_text())["status"] == "complete"
    # The calibration's preflight and its three counts, then the review's: version, show,
    # tags, chat.
    assert len(server.log) == 10
    assert {req.headers["Host"] for req, _ in server.log} == {f"ai:{server.port}"}
    # The fake server closes each connection: one lookup per request and none more (the
    # socket went to the checked address, not to the name looked up again).
    assert len(lookups) == len(server.log)


def test_a_rebinding_answer_is_refused_on_the_next_connection(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """First answer local, then public: each new connection is checked on its own lookup."""
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    lookups = fake_resolver(monkeypatch, "ai", lambda n: ["127.0.0.1"] if n == 1 else [PUBLIC])
    # The fake server closes each connection, so the second request makes a new one.
    code, output, _ = run(server, "ai", tmp_path)
    assert code == 2, output
    assert f"resolves to {PUBLIC}" in output
    assert len(lookups) == 2
    assert len(server.log) == 1  # only the connection made to the checked local address


def test_allow_remote_model_skips_the_check(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    # Resolves "publicly" for the policy, yet reaches the local fake: the policy is not asked.
    calls: list[str] = []

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(host)
        return REAL_GETADDRINFO("127.0.0.1" if host == "ai" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    code, output, _ = run(server, "ai", tmp_path, "--allow-remote-model")
    assert code == 0, output
    assert "ai" in calls


def test_doctor_reports_the_refused_address(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_resolver(monkeypatch, "ai", lambda _: [PUBLIC])
    result = CliRunner().invoke(
        app, ["doctor", "--repo", str(tmp_path), "--ollama-url", f"http://ai:{server.port}"]
    )
    assert result.exit_code == 3, result.output
    failed = [ln for ln in result.output.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "egress policy" in failed[0] and PUBLIC in failed[0]
    assert server.log == []
