"""`reviewer doctor` through the real CLI against fake Ollama and OpenAI-compatible servers: each
misconfiguration the runbook lists gives its failed check, its fix and exit 3."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from reviewer.cli.app import app
from tests.model_fakes import (
    DIGEST,
    MODEL,
    answer,
    openai_completion,
    serve_ollama_chat,
    serve_ollama_preflight,
    serve_openai_models,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for args in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "init"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root, check=True
        )
    return root


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))
    monkeypatch.setenv("REVIEWER_RETRY_BASE_DELAY", "0.001")
    for name in ("OLLAMA_BASE_URL", "OLLAMA_MODEL", "OLLAMA_MODEL_DIGEST", "REVIEWER_BACKEND",
                 "REVIEWER_BASE_URL", "REVIEWER_ALLOW_REMOTE_MODEL"):
        monkeypatch.delenv(name, raising=False)


def url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["doctor", "--model", MODEL, *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def line(output: str, check: str) -> str:
    found = [ln for ln in output.splitlines() if f" {check} " in f" {ln} "]
    assert found, f"no {check!r} line in:\n{output}"
    return found[0]


def test_a_ready_ollama_setup_passes_every_check(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server, context_length=32768)
    serve_ollama_chat(server, answer())
    code, out = doctor("--ollama-url", url(server), "--repo", str(repo))
    assert code == 0, out
    for check in ("credentials", "egress policy", "config", "git", "server", "model",
                  "context length", "warm-up"):
        assert line(out, check).startswith("ok"), out
    assert "version 0.5.1" in line(out, "server")
    assert "32768 tokens >= --num-ctx 8192" in out
    assert out.rstrip().endswith("ready")
    # The warm-up really generated, with the run's own num_ctx so Ollama does not reload later.
    chats = [req for req, _ in server.log if req.path == "/api/chat"]
    assert len(chats) == 1
    assert chats[0].get_json()["options"]["num_ctx"] == 8192


def test_unreachable_server_fails_with_the_fix(repo: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    code, out = doctor("--ollama-url", f"http://127.0.0.1:{port}", "--repo", str(repo))
    assert code == 3
    assert line(out, "server").startswith("FAILED")
    assert "ollama serve" in out
    assert "warm-up" not in out
    assert out.rstrip().endswith("not ready: fix the failed checks above")


def test_missing_model_says_ollama_pull(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server, model="some-other:1b")
    code, out = doctor("--ollama-url", url(server), "--repo", str(repo))
    assert code == 3
    assert line(out, "server").startswith("ok")
    assert line(out, "model").startswith("FAILED")
    assert f"ollama pull {MODEL}" in out


def test_digest_mismatch_fails(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server)
    code, out = doctor(
        "--ollama-url", url(server), "--repo", str(repo), "--model-digest", "ab" * 32
    )
    assert code == 3
    assert line(out, "digest").startswith("FAILED")


def test_pinned_digest_that_matches_is_ok(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    code, out = doctor(
        "--ollama-url", url(server), "--repo", str(repo), "--model-digest", f"sha256:{DIGEST}"
    )
    assert code == 0, out
    assert line(out, "digest").startswith("ok")


def test_num_ctx_above_the_models_context_fails(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server, context_length=4096)
    code, out = doctor("--ollama-url", url(server), "--repo", str(repo), "--num-ctx", "8192")
    assert code == 3
    assert line(out, "context length").startswith("FAILED")
    assert "--num-ctx 4096" in out


def test_remote_url_is_refused_without_connecting(server: HTTPServer, repo: Path) -> None:
    code, out = doctor("--ollama-url", "http://model.example.com:11434", "--repo", str(repo))
    assert code == 3
    assert line(out, "egress policy").startswith("FAILED")
    assert "--allow-remote-model" in out
    assert " server " not in f" {out} "


def test_bad_config_file_fails_and_names_it(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    (repo / ".reviewer.toml").write_text("exclude = 'not-a-list'\nno_such_key = 1\n")
    code, out = doctor("--ollama-url", url(server), "--repo", str(repo))
    assert code == 3
    assert line(out, "config").startswith("FAILED")
    assert ".reviewer.toml" in line(out, "config")


def test_not_a_repository_is_a_warning_only(server: HTTPServer, tmp_path: Path) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out = doctor("--ollama-url", url(server), "--repo", str(plain))
    assert code == 0, out
    assert line(out, "git").startswith("warning")
    assert "--diff-file" in out


def test_credentials_are_named_never_shown(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    secret = "ghp_doctorsecretvalue0123456789abcdef"
    code, out = doctor(
        "--ollama-url", url(server), "--repo", str(repo),
        env={"GITHUB_TOKEN": secret, "MY_API_KEY": secret},
    )
    assert code == 0, out
    assert "GITHUB_TOKEN" in line(out, "credentials")
    assert "MY_API_KEY" in line(out, "credentials")
    assert secret not in out


def test_openai_backend_ready(server: HTTPServer, repo: Path) -> None:
    serve_openai_models(server)
    server.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        openai_completion(answer())
    )
    code, out = doctor("--backend", "openai", "--base-url", url(server), "--repo", str(repo))
    assert code == 0, out
    assert line(out, "server").startswith("ok")
    assert line(out, "warm-up").startswith("ok")


def test_doctor_as_a_subprocess_exits_3_when_not_ready(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "doctor", "--ollama-url", f"http://127.0.0.1:{port}",
         "--repo", str(tmp_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "FAILED   server" in proc.stdout


def test_config_is_found_the_way_a_local_run_finds_it(server: HTTPServer, repo: Path) -> None:
    """Doctor uses plan's own discovery (find_repo_config): the same files in the same order,
    and the same message for a broken one as `reviewer run --staged` gives."""
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    args = ("--ollama-url", url(server), "--repo", str(repo))
    code, out = doctor(*args)
    assert code == 0 and "no config file; defaults apply" in line(out, "config")
    (repo / "pyproject.toml").write_text("[tool.reviewer]\nexclude = ['docs/**']\n")
    code, out = doctor(*args)
    assert code == 0 and f"{repo / 'pyproject.toml'} parses" in line(out, "config")
    (repo / ".reviewer.toml").write_text("no_such_key = 1\n")  # found first, as plan finds it
    code, out = doctor(*args)
    assert code == 3 and line(out, "config").startswith("FAILED")
    (repo / "a.py").write_text("x = 1\n")
    subprocess.run(["git", "add", "a.py"], cwd=repo, check=True)
    run = CliRunner().invoke(app, ["run", "--repo", str(repo), "--staged", "--dry-run"])
    assert run.exit_code != 0
    problem = line(out, "config").split("config", 1)[1].strip()
    assert problem.startswith(".reviewer.toml: ")
    assert problem in " ".join(run.output.split())


def test_a_missing_config_path_is_named_with_its_fix(server: HTTPServer, repo: Path) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    missing = repo / "nowhere.toml"
    code, out = doctor("--ollama-url", url(server), "--repo", str(repo), "--config", str(missing))
    assert code == 3
    assert line(out, "config").startswith("FAILED") and f"{missing} does not exist" in out
    assert "fix: fix the --config path" in out
