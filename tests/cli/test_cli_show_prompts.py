"""`reviewer run --show-prompts DIR` through the real CLI against fake Ollama and OpenAI-compatible
servers: in a real run each request is written before it is sent, as the very bytes the server
receives (model, messages, schema, options); a dry run writes the same bytes without sending;
and the unreachable-server hint fits the backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.chunks.prompt import SYSTEM_PROMPT, findings_schema
from reviewer.settings.config import DEFAULT_OLLAMA_URL, DEFAULT_OPENAI_URL
from tests.cli.test_cli_claims import closed_port_url, one_usage_error, two_commits
from tests.cli.test_cli_run import reviewer
from tests.diff.gitrepo_helpers import GitRepo
from tests.model_fakes import (
    MODEL,
    answer,
    count_reply,
    ndjson_bytes,
    ollama_stream,
    openai_completion,
    serve_ollama_preflight,
    serve_openai_models,
)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return two_commits(tmp_path / "repo", "    return 2  # é, not ASCII")


class Recorder:
    """The model endpoint: keeps each request body and, at the moment it arrives, what
    chunk-0001.json held, then answers with `reply` (the first `invalid` times with junk)."""

    def __init__(self, prompts: Path, reply: Any, invalid: int = 0) -> None:
        self.prompts, self.reply, self.invalid = prompts, reply, invalid
        self.bodies: list[bytes] = []
        self.on_disk: list[bytes | None] = []

    def __call__(self, request: Request) -> Response:
        if request.path == "/api/chat" and (count := count_reply(request)) is not None:
            return count  # a calibration's count, not a request the prompt log records
        self.bodies.append(request.get_data())
        written = self.prompts / "chunk-0001.json"
        self.on_disk.append(written.read_bytes() if written.exists() else None)
        content = "not json" if len(self.bodies) <= self.invalid else answer()
        return self.reply(content)


def ollama_reply(content: str) -> Response:
    return Response(ndjson_bytes(ollama_stream(content)), mimetype="application/x-ndjson")


def openai_reply(content: str) -> Response:
    return Response(json.dumps(openai_completion(content)), mimetype="application/json")


def args_for(backend: str, url: str, repo: GitRepo, prompts: Path) -> list[str]:
    flag = "--ollama-url" if backend == "ollama" else "--base-url"
    return [
        "--repo", str(repo.root), "--base", "HEAD~1", "--backend", backend, flag, url,
        "--model", MODEL, "--no-cache", "--retries", "0", "--num-ctx", "4096",
        "--num-predict", "512", "--max-findings", "3", "--show-prompts", str(prompts),
    ]


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_a_real_run_writes_each_request_before_sending_it(
    server: HTTPServer, repo: GitRepo, env: dict[str, str], tmp_path: Path, backend: str
) -> None:
    prompts = tmp_path / "prompts"
    if backend == "ollama":
        serve_ollama_preflight(server)
        recorder = Recorder(prompts, ollama_reply, invalid=1)
        server.expect_request("/api/chat", method="POST").respond_with_handler(recorder)
    else:
        serve_openai_models(server)
        recorder = Recorder(prompts, openai_reply, invalid=1)
        path = "/v1/chat/completions"
        server.expect_request(path, method="POST").respond_with_handler(recorder)
    url = server.url_for("/").rstrip("/")
    proc = reviewer(args_for(backend, url, repo, prompts), env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    # The invalid answer was asked again: two requests, each already on disk when it arrived,
    # byte for byte.
    assert len(recorder.bodies) == 2
    written = (prompts / "chunk-0001.json").read_bytes()
    assert recorder.on_disk == recorder.bodies == [written, written]
    assert sorted(p.name for p in prompts.iterdir()) == [
        "chunk-0001.json", "chunk-0001.txt", "system-prompt.txt"
    ]
    body = json.loads(written)
    user = (prompts / "chunk-0001.txt").read_text(encoding="utf-8")
    assert "return 2  # é" in user and "é" in written.decode()  # UTF-8, not \\u escapes
    assert body["model"] == MODEL
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ]
    schema = findings_schema(3)  # --max-findings 3
    if backend == "ollama":
        assert body["format"] == schema and body["stream"] is True
        assert body["options"] == {
            "temperature": 0, "seed": 42, "num_ctx": 4096, "num_predict": 512,
        }
        assert body["keep_alive"] == "30m" and body["truncate"] is False
    else:
        assert body["response_format"] == {
            "type": "json_schema",
            "json_schema": {"name": "findings", "strict": True, "schema": schema},
        }
        assert body["stream"] is False
        assert (body["temperature"], body["seed"], body["max_tokens"]) == (0, 42, 512)


@pytest.mark.parametrize("backend", ["ollama", "openai"])
def test_a_dry_run_writes_what_a_real_run_sends(
    server: HTTPServer, repo: GitRepo, env: dict[str, str], tmp_path: Path, backend: str
) -> None:
    """The dry run's files are the bytes a real run with the same flags posts, and sending
    nothing: the server is closed while the dry run writes."""
    dry, real = tmp_path / "dry", tmp_path / "real"
    dead = closed_port_url()
    proc = reviewer([*args_for(backend, dead, repo, dry), "--dry-run"], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    if backend == "ollama":
        serve_ollama_preflight(server)
        recorder = Recorder(real, ollama_reply)
        server.expect_request("/api/chat", method="POST").respond_with_handler(recorder)
    else:
        serve_openai_models(server)
        recorder = Recorder(real, openai_reply)
        path = "/v1/chat/completions"
        server.expect_request(path, method="POST").respond_with_handler(recorder)
    url = server.url_for("/").rstrip("/")
    assert reviewer(args_for(backend, url, repo, real), env, tmp_path).returncode == 0
    assert recorder.bodies == [(dry / "chunk-0001.json").read_bytes()]
    assert (dry / "chunk-0001.txt").read_bytes() == (real / "chunk-0001.txt").read_bytes()


def test_a_cached_answer_sends_and_writes_nothing(
    server: HTTPServer, repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    """The directory is the record of requests sent: a chunk answered from the cache is not."""
    prompts = tmp_path / "prompts"
    serve_ollama_preflight(server)
    recorder = Recorder(prompts, ollama_reply)
    server.expect_request("/api/chat", method="POST").respond_with_handler(recorder)
    args = [a for a in args_for("ollama", server.url_for("/").rstrip("/"), repo, prompts)
            if a != "--no-cache"]
    assert reviewer(args, env, tmp_path).returncode == 0
    assert (prompts / "chunk-0001.json").exists()
    again = reviewer(args, env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(recorder.bodies) == 1
    assert sorted(p.name for p in prompts.iterdir()) == ["system-prompt.txt"]


def test_a_show_prompts_path_that_is_a_file_stops_a_real_run_before_any_request(
    server: HTTPServer, repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    not_a_dir = tmp_path / "prompts"
    not_a_dir.write_text("mine")
    url = server.url_for("/").rstrip("/")
    proc = reviewer(args_for("ollama", url, repo, not_a_dir), env, tmp_path)
    one_usage_error(proc, "--show-prompts", "is a file, not a directory")
    assert server.log == [] and not_a_dir.read_text() == "mine"


# --- the OpenAI-compatible backend's own URL and hint ------------------------------------


def test_the_openai_backend_hint_names_its_servers(
    repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    dead = closed_port_url()
    proc = reviewer(
        ["--repo", str(repo.root), "--base", "HEAD~1", "--backend", "openai", "--base-url", dead,
         "--no-cache", "--retries", "0"],
        env,
        tmp_path,
    )
    assert proc.returncode == 3, proc.stderr
    hint = next(ln for ln in proc.stderr.splitlines() if ln.startswith("hint: "))
    assert "llama-server" in hint and "vllm serve" in hint and "--base-url" in hint
    assert "ollama" not in hint.lower()


def test_the_openai_backend_without_a_url_goes_to_llama_cpps_default(
    repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    """Not to Ollama's port. Whatever listens there (nothing, or another server without this
    model), the run fails closed and every message names the URL it used."""
    proc = reviewer(
        ["--repo", str(repo.root), "--base", "HEAD~1", "--backend", "openai", "--no-cache",
         "--retries", "0", "--timeout", "5", "--model", "no-such-model-for-this-test"],
        env,
        tmp_path,
    )
    assert proc.returncode == 3, proc.stderr
    assert DEFAULT_OPENAI_URL in proc.stderr
    assert DEFAULT_OLLAMA_URL.rsplit(":", 1)[1] not in proc.stderr
    assert "ollama serve" not in proc.stderr
