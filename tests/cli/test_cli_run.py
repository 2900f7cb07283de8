"""`reviewer run` end to end through the real CLI (typer's runner and a subprocess), against
fake Ollama and OpenAI-compatible servers: every exit code, the document, stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from reviewer.backends.ollama import UNREACHABLE_HINT as OLLAMA_UNREACHABLE_HINT
from tests.model_fakes import (
    APP_DIFF,
    MODEL,
    InFlight,
    answer,
    finding,
    ndjson_bytes,
    ollama_stream,
    openai_completion,
    serve_ollama_chat,
    serve_ollama_preflight,
    serve_openai_models,
)

DIFF = APP_DIFF


@pytest.fixture
def diff_file(tmp_path: Path) -> Path:
    path = tmp_path / "pr.diff"
    path.write_text(DIFF)
    return path


def reviewer(
    args: list[str], env: dict[str, str], cwd: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "run", *args],
        env={**env, **extra_env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def common(server: HTTPServer, diff_file: Path, out: Path) -> list[str]:
    return [
        "--diff-file", str(diff_file), "--ollama-url", url(server), "--output", str(out),
        "--timeout", "10", "--retries", "1", "--no-cache", "--format", "json",
    ]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_exit_0_complete_review(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(line=2, severity="medium")))
    out = tmp_path / "findings.json"
    proc = reviewer(common(server, diff_file, out), env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = load(out)
    assert doc["status"] == "complete"
    assert [(f["path"], f["line"], f["severity"]) for f in doc["findings"]] == [
        ("src/app.py", 2, "medium")
    ]
    assert doc["model"] == {
        "backend": "ollama",
        "name": MODEL,
        "digest": doc["model"]["digest"],
        "servers": [{"url": url(server), "dropped": None}],
    }
    assert doc["chunks"] == [{"chunk": 1, "server": url(server)}]
    assert json.loads(proc.stdout) == doc  # --format json prints the same document
    assert "reviewer: complete: 1 file reviewed" in proc.stderr


def test_exit_1_findings_at_or_above_fail_on(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(line=3, severity="high", category="security")))
    out = tmp_path / "findings.json"
    proc = reviewer([*common(server, diff_file, out), "--fail-on", "high"], env, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert load(out)["findings"][0]["category"] == "security"


def test_exit_2_concurrency_with_ollama(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "findings.json"
    proc = reviewer([*common(server, diff_file, out), "--concurrency", "2"], env, tmp_path,
                    LOCAL_LLM_OPTIONAL="true")
    assert proc.returncode == 2
    assert "--concurrency 2 is not allowed with the Ollama backend" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert server.log == []


def test_exit_2_num_ctx_above_model_context(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server, context_length=4096)
    out = tmp_path / "findings.json"
    proc = reviewer([*common(server, diff_file, out), "--num-ctx", "8192"], env, tmp_path)
    assert proc.returncode == 2
    assert "above" in proc.stderr and "hint: use --num-ctx 4096 or less" in proc.stderr


def test_exit_3_server_unreachable_still_writes_the_document(
    env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "findings.json"
    args = ["--diff-file", str(diff_file), "--ollama-url", "http://127.0.0.1:9",
            "--output", str(out), "--retries", "1", "--no-cache"]
    proc = reviewer(args, env, tmp_path)
    assert proc.returncode == 3
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith(("reviewer: error", "hint"))]
    assert lines[0] == (
        "reviewer: error: review not completed (failed): "
        "cannot connect to http://127.0.0.1:9: connection refused"
    )
    assert lines[1] == f"hint: {OLLAMA_UNREACHABLE_HINT}" and "ollama serve" in lines[1]
    doc = load(out)
    assert doc["status"] == "failed"
    assert doc["errors"][0]["kind"] == "unreachable"


def test_optional_unreachable_is_skipped_exit_0(
    env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "findings.json"
    args = ["--diff-file", str(diff_file), "--ollama-url", "http://127.0.0.1:9",
            "--output", str(out), "--retries", "0", "--no-cache"]
    proc = reviewer(args, env, tmp_path, LOCAL_LLM_OPTIONAL="yes")
    assert proc.returncode == 0, proc.stderr
    assert load(out)["status"] == "skipped"
    assert "reviewer: warning:" in proc.stderr


@pytest.mark.parametrize("value", ["false", "0", "on", ""])
def test_optional_needs_an_explicit_true_word(
    env: dict[str, str], diff_file: Path, tmp_path: Path, value: str
) -> None:
    args = ["--diff-file", str(diff_file), "--ollama-url", "http://127.0.0.1:9",
            "--retries", "0", "--no-cache", "--format", "json"]
    proc = reviewer(args, env, tmp_path, LOCAL_LLM_OPTIONAL=value)
    assert proc.returncode == 3


def test_exit_3_missing_model_hint(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server, model="other:1b")
    proc = reviewer(common(server, diff_file, tmp_path / "f.json"), env, tmp_path)
    assert proc.returncode == 3
    assert f"hint: run `ollama pull {MODEL}`" in proc.stderr


def test_exit_3_invalid_answer_twice(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, "I found no problems.")
    out = tmp_path / "findings.json"
    proc = reviewer(common(server, diff_file, out), env, tmp_path)
    assert proc.returncode == 3
    doc = load(out)
    assert doc["status"] == "failed"
    assert doc["stats"]["model_calls"] == 2
    assert doc["errors"][0]["kind"] == "invalid_answer"


def test_exit_3_digest_mismatch(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    args = [*common(server, diff_file, tmp_path / "f.json"), "--model-digest", "0" * 64]
    proc = reviewer(args, env, tmp_path)
    assert proc.returncode == 3
    assert "digest" in proc.stderr


def test_openai_backend(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_openai_models(server)
    server.expect_request("/v1/chat/completions").respond_with_json(
        openai_completion(answer(finding(line=1, severity="low")))
    )
    out = tmp_path / "findings.json"
    args = ["--diff-file", str(diff_file), "--backend", "openai", "--base-url", url(server),
            "--output", str(out), "--no-cache", "--format", "json"]
    proc = reviewer(args, env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = load(out)
    assert doc["model"]["backend"] == "openai"
    assert [f["line"] for f in doc["findings"]] == [1]


@pytest.mark.parametrize(
    ("suffix", "by_env"), [("/v1", False), ("/v1/", False), ("/v1", True)]
)
def test_a_base_url_ending_in_v1_is_the_servers_root(
    server: HTTPServer,
    env: dict[str, str],
    diff_file: Path,
    tmp_path: Path,
    suffix: str,
    by_env: bool,
) -> None:
    """`--base-url http://127.0.0.1:8080/v1`, as vLLM's and llama.cpp's docs write it, reaches
    /v1/models and /v1/chat/completions, never /v1/v1/..."""
    serve_openai_models(server)
    server.expect_request("/v1/chat/completions").respond_with_json(
        openai_completion(answer(finding(line=1, severity="low")))
    )
    given = url(server) + suffix
    out = tmp_path / "findings.json"
    args = ["--diff-file", str(diff_file), "--backend", "openai", "--output", str(out),
            "--no-cache", "--format", "json"]  # fmt: skip
    if by_env:
        proc = reviewer(args, env, tmp_path, REVIEWER_BASE_URL=given)
    else:
        proc = reviewer([*args, "--base-url", given], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [f["line"] for f in load(out)["findings"]] == [1]
    # Beside the calibration's counts (/apply-template, /tokenize: review/calibration.py).
    assert {r.path for r, _ in server.log if r.path.startswith("/v1/")} == {
        "/v1/models",
        "/v1/chat/completions",
    }


def test_response_cache_makes_a_rerun_free(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding()))
    out = tmp_path / "findings.json"
    args = ["--diff-file", str(diff_file), "--ollama-url", url(server), "--output", str(out)]
    assert reviewer(args, env, tmp_path).returncode == 0
    first = load(out)
    assert reviewer(args, env, tmp_path).returncode == 0
    second = load(out)
    assert second["stats"]["model_calls"] == 0
    assert second["stats"]["cache_hits"] == 1
    assert second["findings"] == first["findings"]


def test_two_processes_against_one_server_take_turns(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    ok = ndjson_bytes(ollama_stream(answer()))
    counter = InFlight(lambda _: Response(ok, mimetype="application/x-ndjson"), hold=0.3)
    server.expect_request("/api/chat").respond_with_handler(counter)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "reviewer", "run", "--diff-file", str(diff_file),
             "--ollama-url", url(server), "--no-cache", "--output", str(tmp_path / f"{i}.json")],
            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        for i in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    # Each run: its chunk, and the first of the calibration's counts (review/calibration.py),
    # which this fake answers as a stream, so the run keeps the raw estimate. All in turn.
    assert counter.total == 4
    assert counter.peak == 1


def test_cli_runner_in_process(
    server: HTTPServer, diff_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from reviewer.cli.app import app

    monkeypatch.setenv("REVIEWER_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("LOCAL_LLM_OPTIONAL", raising=False)
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(line=2, severity="critical")))
    out = tmp_path / "findings.json"
    result = CliRunner().invoke(
        app,
        ["run", "--diff-file", str(diff_file), "--ollama-url", url(server), "--no-cache",
         "--output", str(out), "--fail-on", "critical", "--format", "json"],
    )
    assert result.exit_code == 1, result.output
    assert load(out)["findings"][0]["severity"] == "critical"


def test_git_range_review(server: HTTPServer, env: dict[str, str], tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
            cwd=repo, check=True, capture_output=True, text=True,
        ).stdout.strip()

    git("init", "-q", "-b", "main")
    (repo / "app.py").write_text("x = 1\n")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    base = git("rev-parse", "HEAD")
    (repo / "app.py").write_text("x = 1\ny = x / 0\n")
    git("commit", "-q", "-am", "head")
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(path="app.py", line=2)))
    out = tmp_path / "findings.json"
    args = ["--repo", str(repo), "--base", base, "--head", "HEAD", "--ollama-url", url(server),
            "--no-cache", "--output", str(out)]
    proc = reviewer(args, env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = load(out)
    assert doc["base"] == base
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("app.py", 2)]
