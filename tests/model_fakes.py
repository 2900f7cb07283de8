"""Test helpers shared by the backend, review and CLI tests: faithful fake Ollama and
OpenAI-compatible servers on pytest-httpserver, answers in the findings shape, and chunks."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.chunks.prompt import estimate_tokens
from reviewer.models import Chunk, ChunkFile
from reviewer.settings.slices import ModelSettings

MODEL = "qwen2.5-coder:7b"
DIGEST = "9f438cb9cd581fc025612d27f7c1a6669ff83a8bb0ed86c94fcf4c5440555697"


def backend_settings(url: str, **over: Any) -> ModelSettings:
    """Settings for a backend under test against a fake server at `url`: short timeouts, two
    retries; `over` replaces any of them."""
    values: dict[str, Any] = {
        "base_url": url.rstrip("/"),
        "model": MODEL,
        "timeout": 5.0,
        "connect_timeout": 1.0,
        "retries": 2,
    }
    values.update(over)
    return ModelSettings(**values)


def finding(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "path": "src/app.py",
        "side": "new",
        "line": 2,
        "end_line": None,
        "severity": "high",
        "category": "bug",
        "title": "Division by zero",
        "message": "b can be zero; check it first.",
        "suggestion": None,
    }
    base.update(over)
    return base


def answer(*findings: dict[str, Any]) -> str:
    return json.dumps({"findings": list(findings)})


# A one-file pull request as `git diff` writes it: the CLI tests' default input.
APP_DIFF = """\
diff --git a/src/app.py b/src/app.py
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/src/app.py
@@ -0,0 +1,3 @@
+def div(a, b):
+    return a / b
+password = "hunter2"
"""

APP_CHUNK_TEXT = (
    '=== FILE "src/app.py"\n'
    "@@ def div\n"
    " def div(a, b):\n"
    "2     return a / b\n"
    "3 \n"
    "4 password = 'x'\n"
    "-    return 0\n"
    " # end"
)


# The texts APP_CHUNK_TEXT shows behind its prefixes (its removed line has no number).
APP_CHUNK_NEW_TEXTS = {1: "def div(a, b):", 2: "    return a / b", 3: "", 4: "password = 'x'",
                       5: "# end"}


def app_chunk(index: int = 0) -> Chunk:
    text = APP_CHUNK_TEXT
    return Chunk(
        index=index,
        files=(
            ChunkFile(
                path="src/app.py",
                added_lines=frozenset({2, 3, 4}),
                context_lines=frozenset({1, 5}),
                new_texts=APP_CHUNK_NEW_TEXTS,
                old_texts={},
            ),
        ),
        text=text,
        estimated_tokens=estimate_tokens(text),  # as the chunker sets it
    )


# --- Ollama --------------------------------------------------------------------------------


def ollama_stream(
    content: str,
    *,
    pieces: int = 3,
    done_reason: str = "stop",
    prompt_eval_count: int = 400,
    eval_count: int = 25,
) -> list[dict[str, Any]]:
    """The NDJSON objects Ollama streams for one chat answer (docs/api.md)."""
    size = max(1, -(-len(content) // pieces))
    parts = [content[i : i + size] for i in range(0, len(content), size)] or [""]
    lines: list[dict[str, Any]] = [
        {
            "model": MODEL,
            "created_at": "2024-12-06T00:46:58.265747Z",
            "message": {"role": "assistant", "content": part},
            "done": False,
        }
        for part in parts
    ]
    lines.append(
        {
            "model": MODEL,
            "created_at": "2024-12-06T00:46:59.265747Z",
            "message": {"role": "assistant", "content": ""},
            "done_reason": done_reason,
            "done": True,
            "total_duration": 2254970291,
            "load_duration": 574751416,
            "prompt_eval_count": prompt_eval_count,
            "prompt_eval_duration": 1502000000,
            "eval_count": eval_count,
            "eval_duration": 175000000,
        }
    )
    return lines


def ndjson_bytes(objs: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objs)


def split_response(data: bytes, piece: int = 7, pause: float = 0.002) -> Response:
    """A streamed response whose bytes arrive in small pieces that cut JSON lines (and UTF-8
    characters) in two; the pause makes the pieces separate network reads."""

    def gen() -> Iterator[bytes]:
        for i in range(0, len(data), piece):
            yield data[i : i + piece]
            time.sleep(pause)

    return Response(gen(), mimetype="application/x-ndjson")


def serve_ollama_preflight(
    server: HTTPServer,
    *,
    model: str = MODEL,
    digest: str = DIGEST,
    context_length: int | None = 32768,
) -> None:
    server.expect_request("/api/version", method="GET").respond_with_json({"version": "0.5.1"})
    info: dict[str, Any] = {"general.architecture": "qwen2"}
    if context_length is not None:
        info["qwen2.context_length"] = context_length
    show = {"details": {"format": "gguf", "family": "qwen2"}, "model_info": info}

    def show_handler(request: Request) -> Response:
        if (request.get_json(silent=True) or {}).get("model") != model:
            body = json.dumps({"error": f"model '{model}' not found"})
            return Response(body, status=404, mimetype="application/json")
        return Response(json.dumps(show), mimetype="application/json")

    server.expect_request("/api/show", method="POST").respond_with_handler(show_handler)
    tags = {"models": [{"name": model, "model": model, "digest": digest, "size": 1}]}
    server.expect_request("/api/tags", method="GET").respond_with_json(tags)


def count_reply(request: Request, **kw: Any) -> Response | None:
    """The answer to a calibration's count (review/calibration.py: a non-streamed /api/chat),
    or None for a review's request: a scripted fake spends none of its script on counts."""
    if (request.get_json(silent=True) or {}).get("stream") is not False:
        return None
    final = ollama_stream("", **kw)[-1]
    return Response(json.dumps(final), mimetype="application/json")


def serve_ollama_chat(server: HTTPServer, contents: list[str] | str, **kw: Any) -> None:
    """/api/chat answering with the given contents in turn (the last one repeats)."""
    queue = [contents] if isinstance(contents, str) else list(contents)
    lock = threading.Lock()

    def handler(request: Request) -> Response:
        if (count := count_reply(request, **kw)) is not None:
            return count
        with lock:
            content = queue.pop(0) if len(queue) > 1 else queue[0]
        return split_response(ndjson_bytes(ollama_stream(content, **kw)), piece=64, pause=0)

    server.expect_request("/api/chat", method="POST").respond_with_handler(handler)


def closed_port_url() -> str:
    """A 127.0.0.1 URL where nothing listens (a port just freed): connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def requests_to(server: HTTPServer, path: str) -> list[Request]:
    return [req for req, _ in server.log if req.path == path]


def review_chats(server: HTTPServer) -> list[Request]:
    """The /api/chat requests that reviewed a chunk: not the calibration's counts (non-streamed,
    review/calibration.py)."""
    return [
        req
        for req in requests_to(server, "/api/chat")
        if (req.get_json(silent=True) or {}).get("stream") is not False
    ]


class InFlight:
    """Counts concurrent requests at a handler; `peak` is the most seen at once."""

    def __init__(self, inner: Callable[[Request], Response], hold: float = 0.05) -> None:
        self.inner = inner
        self.hold = hold
        self.now = 0
        self.peak = 0
        self.total = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self.now += 1
            self.total += 1
            self.peak = max(self.peak, self.now)
        try:
            time.sleep(self.hold)  # keep the request open so an overlap would be seen
            return self.inner(request)
        finally:
            with self._lock:
                self.now -= 1


# --- OpenAI-compatible ---------------------------------------------------------------------


def openai_completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    prompt_tokens: int = 400,
    completion_tokens: int = 25,
    cached_tokens: int = 0,
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def serve_openai_models(server: HTTPServer, ids: tuple[str, ...] = (MODEL,), **extra: Any) -> None:
    data = [{"id": i, "object": "model", "owned_by": "llamacpp", **extra} for i in ids]
    server.expect_request("/v1/models", method="GET").respond_with_json(
        {"object": "list", "data": data}
    )


class RecordingChat:
    """/api/chat that records every user message and answers with the scripted findings for
    the files that message shows."""

    def __init__(self, findings: list[dict[str, Any]]) -> None:
        self.findings = findings
        self.messages: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        message = request.get_json()["messages"][-1]["content"]
        with self.lock:
            self.messages.append(message)
        shown = [f for f in self.findings if f'=== FILE "{f["path"]}"' in message]
        content = answer(*shown)
        return Response(ndjson_bytes(ollama_stream(content)), mimetype="application/x-ndjson")


def run_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a `reviewer` subprocess in a test: this checkout's source, short
    retries, its lock and cache under `tmp_path`, in CI."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return {
        **keep,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
        "REVIEWER_RETRY_BASE_DELAY": "0.001",
        "REVIEWER_LOCK_DIR": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CI": "true",
    }
