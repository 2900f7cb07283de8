"""The real llama.cpp server with the small model: what reviewer's OpenAI-compatible backend
relies on (model listing, JSON-Schema-constrained decoding, prefix-cache reporting) and the
launcher script's own behaviour (clean stop, one-line errors)."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from reviewer.chunks.prompt import SYSTEM_PROMPT, findings_schema, render_user_message

from .llama import SERVER_SCRIPT, LlamaServer, read_url, spawn, stop

pytestmark = pytest.mark.e2e

CHUNK = """=== FILE "calc.py"
@@ -0,0 +1,3 @@
   1 +|def mean(xs):
   2 +|    return sum(xs) / 0
   3 +|"""


def _chat(server: LlamaServer, body: dict[str, Any]) -> dict[str, Any]:
    request = {
        "model": server.model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": render_user_message(CHUNK)},
        ],
        "temperature": 0,
        "seed": 42,
        **body,
    }
    response = httpx.post(f"{server.base_url}/v1/chat/completions", json=request, timeout=300)
    response.raise_for_status()
    result: dict[str, Any] = response.json()
    return result


def test_models_lists_the_alias_and_the_context(llama_server: LlamaServer) -> None:
    data = httpx.get(f"{llama_server.base_url}/v1/models", timeout=30).json()["data"]
    assert [entry["id"] for entry in data] == ["smollm2-135m-instruct"]
    assert data[0]["meta"]["n_ctx"] == 8192
    assert data[0]["meta"]["n_ctx_train"] == 8192


def test_constrained_decoding_returns_schema_valid_findings(llama_server: LlamaServer) -> None:
    # Unconstrained, this model copies the prompt's example until it hits maxItems (20). With
    # maxItems 1 the grammar must close the array after one finding: a "stop" finish and a
    # valid document prove the server enforces the schema rather than merely hoping for it.
    schema = copy.deepcopy(findings_schema())
    schema["properties"]["findings"]["maxItems"] = 1
    result = _chat(
        llama_server,
        {
            "max_tokens": 400,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "findings", "strict": True, "schema": schema},
            },
        },
    )
    choice = result["choices"][0]
    assert choice["finish_reason"] == "stop"
    answer = json.loads(choice["message"]["content"])
    jsonschema.validate(answer, schema)
    jsonschema.validate(answer, findings_schema())
    assert len(answer["findings"]) <= 1
    usage = result["usage"]
    assert usage["prompt_tokens"] > 0
    assert 0 < usage["completion_tokens"] <= 400


def test_a_repeated_prefix_is_reported_as_cached_tokens(llama_server: LlamaServer) -> None:
    # reviewer sends the same system prompt first on every chunk; the server reports the reused
    # prefix as usage.prompt_tokens_details.cached_tokens (and timings.cache_n).
    _chat(llama_server, {"max_tokens": 4})
    second = _chat(llama_server, {"max_tokens": 4})
    cached = second["usage"]["prompt_tokens_details"]["cached_tokens"]
    assert 0 < cached <= second["usage"]["prompt_tokens"]
    assert second["timings"]["cache_n"] == cached


def test_the_script_stops_cleanly_on_sigterm(tmp_path: Path, llama_server: LlamaServer) -> None:
    log = tmp_path / "server.log"
    proc = spawn(log, "--ctx-size", "1024")
    try:
        url = read_url(proc, log)
        assert httpx.get(f"{url}/health", timeout=30).json() == {"status": "ok"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop(proc)
    assert "stopping on SIGTERM" in log.read_text()


def test_sigterm_does_not_wait_for_a_long_request(tmp_path: Path) -> None:
    # llama.cpp's destructor would wait for the request in progress (minutes on a slow CPU);
    # the script exits at once instead, so the client sees its connection close, not an answer.
    log = tmp_path / "server.log"
    proc = spawn(log)
    outcome: list[BaseException | int] = []

    def long_request(url: str) -> None:
        body = {"prompt": "Count: 1, 2, 3,", "max_tokens": 7000, "ignore_eos": True}
        try:
            outcome.append(httpx.post(f"{url}/completion", json=body, timeout=600).status_code)
        except httpx.HTTPError as e:
            outcome.append(e)

    try:
        url = read_url(proc, log)
        client = threading.Thread(target=long_request, args=(url,), daemon=True)
        client.start()
        _wait_for_log(log, "processing task")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
    finally:
        stop(proc)
    assert "stopping on SIGTERM" in log.read_text()
    client.join(timeout=60)
    assert outcome and isinstance(outcome[0], httpx.HTTPError)


def _wait_for_log(log: Path, needle: str) -> None:
    for _ in range(1200):
        if needle in log.read_text():
            return
        time.sleep(0.1)
    pytest.fail(f"{needle!r} never appeared in the server log")


def test_a_busy_port_is_a_one_line_error(llama_server: LlamaServer) -> None:
    port = llama_server.base_url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, str(SERVER_SCRIPT), "--port", port],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"is port {port} already in use?" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_missing_model_file_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SERVER_SCRIPT), "--model", str(tmp_path / "none.gguf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("llama_server: error: model file not found:")
    assert "Traceback" not in done.stderr
