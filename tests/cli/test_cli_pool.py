"""Several model servers through the real CLI: repeated --ollama-url/--base-url, the
comma-separated variables, duplicates and remote URLs refused before any request, exit codes
when servers fail (with and without LOCAL_LLM_OPTIONAL), and `reviewer doctor` naming the one
server that failed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from reviewer.cli.app import app
from tests.model_fakes import (
    APP_DIFF,
    MODEL,
    answer,
    closed_port_url,
    finding,
    requests_to,
    serve_ollama_chat,
    serve_ollama_preflight,
    serve_openai_models,
)

# One chunk per run is enough here: the CLI's part is the flags, the variables and the exit
# codes; the spreading and the failover are proven in tests/review/test_pool.py.


def url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


@pytest.fixture
def diff_file(tmp_path: Path) -> Path:
    path = tmp_path / "pr.diff"
    path.write_text(APP_DIFF)
    return path


def run(
    diff_file: Path, env: dict[str, str], *args: str, **extra: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, object] | None]:
    out = diff_file.parent / "findings.json"
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--diff-file", str(diff_file), "-o", str(out),
         "--timeout", "10", "--retries", "1", "--no-cache", *args],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return proc, json.loads(out.read_text()) if out.exists() else None


def test_the_comma_separated_variable_lists_the_servers(
    servers: Callable[[int], list[HTTPServer]], diff_file: Path, env: dict[str, str]
) -> None:
    pool = servers(2)
    for s in pool:
        serve_ollama_preflight(s)
        serve_ollama_chat(s, answer(finding(line=2)))
    proc, doc = run(diff_file, env, OLLAMA_BASE_URL=f"{url(pool[0])}, {url(pool[1])}")
    assert proc.returncode == 0, proc.stderr
    assert doc is not None and doc["schema_version"] == 3
    model = doc["model"]
    assert isinstance(model, dict)
    assert [s["url"] for s in model["servers"]] == [url(s) for s in pool]
    assert doc["chunks"] in ([{"chunk": 1, "server": url(s)}] for s in pool)
    # Each server was preflighted before the one chunk went to one of them.
    assert all(requests_to(s, "/api/tags") for s in pool)  # each preflighted


def test_repeated_base_url_flags_list_openai_servers(
    servers: Callable[[int], list[HTTPServer]], diff_file: Path, env: dict[str, str]
) -> None:
    pool = servers(2)
    for s in pool:
        serve_openai_models(s)
        s.expect_request("/v1/chat/completions").respond_with_json(
            {"model": MODEL, "choices": [{"message": {"content": answer()},
                                          "finish_reason": "stop"}]}
        )
    proc, doc = run(diff_file, env, "--backend", "openai", "--model", MODEL,
                    "--base-url", url(pool[0]), "--base-url", url(pool[1]))
    assert proc.returncode == 0, proc.stderr
    assert doc is not None
    model = doc["model"]
    assert isinstance(model, dict)
    assert [s["url"] for s in model["servers"]] == [url(s) for s in pool]


@pytest.mark.parametrize("spelling", [str, lambda u: u + "/", str.upper])
def test_a_server_given_twice_is_refused_before_any_request(
    servers: Callable[[int], list[HTTPServer]], diff_file: Path, env: dict[str, str],
    spelling: Callable[[str], str],
) -> None:
    (s,) = servers(1)
    serve_ollama_preflight(s)
    proc, doc = run(diff_file, env, "--ollama-url", url(s), "--ollama-url", spelling(url(s)))
    assert proc.returncode == 2, proc.stderr
    assert f"the model server {url(s)} is given twice" in proc.stderr
    assert "Traceback" not in proc.stderr and doc is None
    assert s.log == []


def test_every_url_of_the_list_goes_through_the_url_policy(
    servers: Callable[[int], list[HTTPServer]], diff_file: Path, env: dict[str, str]
) -> None:
    (s,) = servers(1)
    serve_ollama_preflight(s)
    for bad in ("http://203.0.113.9:11434", "http://user:pw@127.0.0.1:1", "file:///etc"):
        proc, doc = run(diff_file, env, OLLAMA_BASE_URL=f"{url(s)},{bad}")
        assert proc.returncode == 2, (bad, proc.stderr)
        assert "model URL" in proc.stderr and "Traceback" not in proc.stderr
        assert "pw" not in proc.stderr and doc is None
    assert s.log == []


def test_every_server_failing_exits_3_and_local_llm_optional_still_forgives(
    servers: Callable[[int], list[HTTPServer]], diff_file: Path, env: dict[str, str]
) -> None:
    pool = servers(2)
    for s in pool:
        serve_ollama_preflight(s)
        s.expect_request("/api/chat").respond_with_data("down", status=503)
    flags = ("--ollama-url", url(pool[0]), "--ollama-url", url(pool[1]))
    proc, doc = run(diff_file, env, *flags)
    assert proc.returncode == 3, proc.stderr
    assert doc is not None and doc["status"] == "failed"
    assert "no model server is left" in proc.stderr
    proc, doc = run(diff_file, env, *flags, LOCAL_LLM_OPTIONAL="1")
    assert proc.returncode == 0, proc.stderr
    assert doc is not None and doc["status"] == "skipped"


def test_digest_mismatch_between_servers_exits_3_naming_both(
    servers: Callable[[int], list[HTTPServer]], diff_file: Path, env: dict[str, str]
) -> None:
    first, second = servers(2)
    serve_ollama_preflight(first)
    serve_ollama_preflight(second, digest="2" * 64)
    for s in (first, second):
        serve_ollama_chat(s, answer())
    proc, doc = run(diff_file, env, "--ollama-url", url(first), "--ollama-url", url(second))
    assert proc.returncode == 3, proc.stderr
    assert url(first) in proc.stderr and url(second) in proc.stderr and "222222222222" in proc.stderr
    assert [len(requests_to(s, "/api/chat")) for s in (first, second)] == [0, 0]


def test_doctor_checks_every_server_and_names_the_one_that_failed(
    servers: Callable[[int], list[HTTPServer]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("OLLAMA_BASE_URL", raising=False)
    (good,) = servers(1)
    serve_ollama_preflight(good)
    serve_ollama_chat(good, answer())
    down = closed_port_url()
    result = CliRunner().invoke(
        app, ["doctor", "--model", MODEL, "--repo", str(tmp_path), "--ollama-url", url(good),
              "--ollama-url", down],
    )
    assert result.exit_code == 3, result.output
    lines = result.output.splitlines()
    assert any(ln.startswith("ok") and f"{url(good)}: ollama server" in ln for ln in lines)
    assert any(ln.startswith("FAILED") and "server" in ln and down in ln for ln in lines)
    assert any(ln.startswith("warning") and "1 of 2 servers answered" in ln for ln in lines)
    assert result.output.rstrip().endswith("not ready: fix the failed checks above")


def test_doctor_refuses_servers_that_serve_different_digests(
    servers: Callable[[int], list[HTTPServer]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))
    first, second = servers(2)
    serve_ollama_preflight(first)
    serve_ollama_preflight(second, digest="3" * 64)
    for s in (first, second):
        serve_ollama_chat(s, answer())
    result = CliRunner().invoke(
        app, ["doctor", "--model", MODEL, "--repo", str(tmp_path), "--ollama-url", url(first),
              "--ollama-url", url(second)],
    )
    assert result.exit_code == 3, result.output
    failed = [ln for ln in result.output.splitlines() if ln.startswith("FAILED")]
    assert len(failed) == 1 and "servers" in failed[0] and "333333333333" in failed[0]
