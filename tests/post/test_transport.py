"""The token never travels to a proxy in clear. With HTTP_PROXY, HTTPS_PROXY and ALL_PROXY all
pointing at a recording proxy on 127.0.0.1: a loopback API URL never touches it; an https API
URL goes through it only as a CONNECT tunnel (the proxy never sees a header of ours), verified
against an internal CA given in SSL_CERT_FILE or SSL_CERT_DIR; a plain-http remote API URL is
refused before anything is sent. All through the real CLI in a subprocess, so httpx's own
reading of the environment would show if it came back."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reviewer.post.transport import proxy_for
from tests.post.github_fake import TOKEN, FakeGitHub, load_spec
from tests.post.pr_data import APP_PATCH
from tests.post.tls_proxy import RecordingProxy, make_ca_and_cert

PROJECT = Path(__file__).resolve().parents[2]
HOST = "github.test"  # resolves nowhere: only the proxy's tunnel reaches the fake


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    p = RecordingProxy()
    p.start()
    yield p
    p.stop()


def child_env(env: dict[str, str], proxy: RecordingProxy, **extra: str) -> dict[str, str]:
    """A minimal environment (no SSL_CERT_* or proxies of this machine) with every proxy
    variable, both cases, pointing at the recording proxy."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    proxies = {
        name: proxy.url
        for base in ("http_proxy", "https_proxy", "all_proxy")
        for name in (base, base.upper())
    }
    return {**keep, **env, **proxies, "PYTHONPATH": str(PROJECT / "src"), **extra}


def post(findings: Path, child: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings), "--max-wait", "0", *args],
        env=child, capture_output=True, text=True, timeout=60, check=False,
    )


def test_a_loopback_api_url_never_touches_the_proxy(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str], proxy: RecordingProxy
) -> None:
    result = post(findings_file, child_env(env, proxy))
    assert result.returncode == 0, result.stderr
    assert proxy.requests == []
    assert len(fake.summaries()) == 1 and len(fake.check_runs) == 1


def test_the_proxy_choice_loopback_never_no_proxy_honoured_http_proxy_unused() -> None:
    env = {"HTTPS_PROXY": "http://proxy:3128", "ALL_PROXY": "http://proxy:3128", "NO_PROXY": ""}
    for url in ("http://127.0.0.1:8080", "https://localhost", "http://[::1]:9", "https://127.0.0.2"):
        assert proxy_for(url, env) is None
    assert proxy_for("https://api.github.com", env) == "http://proxy:3128"
    assert proxy_for("https://api.github.com", {"ALL_PROXY": "proxy:3128"}) == "http://proxy:3128"
    for no_proxy in ("*", "github.com", ".github.com", "api.github.com:443", "x, github.com"):
        assert proxy_for("https://api.github.com", {**env, "no_proxy": no_proxy}) is None
    assert proxy_for("https://api.github.com", {**env, "NO_PROXY": "hub.com"}) == "http://proxy:3128"
    assert proxy_for("https://api.github.com", {"HTTP_PROXY": "http://proxy:3128"}) is None


@pytest.fixture
def tls_fake(tmp_path: Path) -> Iterator[tuple[FakeGitHub, Path]]:
    """The fake GitHub behind TLS with a certificate for github.test from a private CA."""
    if load_spec() is None:
        pytest.skip("../shared/specs/github-rest-subset.json is missing beside the project")
    ca, cert, key = make_ca_and_cert(tmp_path, HOST)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    fake = FakeGitHub(server, public_url=f"https://{HOST}")
    fake.add_file("src/app.py", APP_PATCH)
    yield fake, ca
    server.clear()
    server.stop()


def https_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "GITHUB_API_URL": f"https://{HOST}"}


@pytest.mark.parametrize("ca_variable", ["SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_an_https_api_url_goes_through_the_proxy_only_as_a_tunnel(
    tls_fake: tuple[FakeGitHub, Path], findings_file: Path, env: dict[str, str],
    proxy: RecordingProxy, tmp_path: Path, ca_variable: str,
) -> None:
    fake, ca = tls_fake
    proxy.upstream = ("127.0.0.1", fake.server.port)
    ca_value = str(ca)
    if ca_variable == "SSL_CERT_DIR":
        ca_dir = tmp_path / "certs"
        ca_dir.mkdir()
        shutil.copy(ca, ca_dir / "internal-ca.pem")
        subprocess.run(["openssl", "rehash", str(ca_dir)], check=True, capture_output=True)
        ca_value = str(ca_dir)
    result = post(findings_file, child_env(https_env(env), proxy, **{ca_variable: ca_value}))
    assert result.returncode == 0, result.stderr
    assert len(fake.summaries()) == 1 and fake.reviews and len(fake.check_runs) == 1
    assert proxy.requests, "the https request did not use HTTPS_PROXY"
    for line, headers in proxy.requests:
        assert line == f"CONNECT {HOST}:443 HTTP/1.1"
        assert "authorization" not in headers
    assert TOKEN.encode() not in proxy.tunnelled and b"Bearer" not in proxy.tunnelled
    assert b"/repos/" not in proxy.tunnelled  # not even the paths: all inside TLS


def test_an_unknown_ca_is_refused(
    tls_fake: tuple[FakeGitHub, Path], findings_file: Path, env: dict[str, str], proxy: RecordingProxy
) -> None:
    fake, _ = tls_fake
    proxy.upstream = ("127.0.0.1", fake.server.port)
    result = post(findings_file, child_env(https_env(env), proxy))
    assert result.returncode == 3, result.stderr
    assert "could not reach GitHub" in result.stderr and "CERTIFICATE_VERIFY_FAILED" in result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr
    assert fake.log == []


def test_a_bad_ca_file_is_a_usage_error(
    findings_file: Path, env: dict[str, str], proxy: RecordingProxy, tmp_path: Path
) -> None:
    result = post(findings_file, child_env(https_env(env), proxy, SSL_CERT_FILE=str(tmp_path / "none.pem")))
    assert result.returncode == 2 and "SSL_CERT_FILE" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 2 and proxy.requests == []


def test_a_plain_http_remote_api_url_is_refused_before_sending(
    findings_file: Path, env: dict[str, str], proxy: RecordingProxy
) -> None:
    child = child_env({**env, "GITHUB_API_URL": "http://github.example.com/api/v3"}, proxy)
    result = post(findings_file, child)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("reviewer: error: GITHUB_API_URL=") and "unencrypted" in lines[0]
    assert lines[1].startswith("hint: ") and "https://" in lines[1] and len(lines) == 2
    assert proxy.requests == []
