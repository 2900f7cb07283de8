"""An Ollama-compatible server on 127.0.0.1 for measuring the tool: it answers every /api/chat
with `{"findings": []}`, at once (the per-call overhead) or after a model's time for the request
at a fixed token rate, one request at a time (part 6, several servers), and records how long it
spent."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAKE_DIGEST = "0" * 64
ANSWER = '{"findings": []}'


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.chat_calls = 0
        self.server_s = 0.0  # time spent inside /api/chat handlers, reading to last byte sent

    def add(self, seconds: float, *, review: bool = True) -> None:
        """A chat request's time; `review` False for a calibration's count (non-streamed),
        which is server time but no chunk's call."""
        with self.lock:
            self.chat_calls += review
            self.server_s += seconds


@dataclass(frozen=True)
class Pace:
    """A model's speed: prompt tokens read and answer tokens written per second."""

    prefill_per_s: float
    decode_per_s: float

    def seconds(self, prompt_tokens: int, answer_tokens: int) -> float:
        return prompt_tokens / self.prefill_per_s + answer_tokens / self.decode_per_s


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server: no reconnect per call
    counters: Counters
    model: str
    pace: Pace | None
    busy: threading.Lock  # a paced server, like Ollama, computes one answer at a time

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # a benchmark's stderr should show results, not access logs

    def do_GET(self) -> None:
        if self.path == "/api/version":
            self._send({"version": "0.0.0-bench"})
        elif self.path == "/api/tags":
            self._send(
                {"models": [{"name": self.model, "model": self.model, "digest": FAKE_DIGEST}]}
            )
        else:
            self._send({"error": "not found"}, 404)

    def do_POST(self) -> None:
        started = time.perf_counter()
        body = self._read_json()
        if self.path == "/api/show":
            self._send(
                {"model_info": {"general.architecture": "bench", "bench.context_length": 32768}}
            )
        elif self.path == "/api/chat":
            payload, content_type = self._chat(body)
            # Counted before the answer goes out: a client that has its answer sees the count.
            self.counters.add(time.perf_counter() - started, review=body.get("stream", True))
            self._send_raw(payload, content_type)
        else:
            self._send({"error": "not found"}, 404)

    def _chat(self, body: dict[str, Any]) -> tuple[bytes, str]:
        """The answer to a chat request, and its content type."""
        messages = body.get("messages") or []
        prompt_chars = sum(len(m.get("content", "")) for m in messages if isinstance(m, dict))
        final = {
            "model": self.model,
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": max(1, prompt_chars // 4),
            "eval_count": 6,
        }
        if self.pace is not None:
            with self.busy:
                time.sleep(self.pace.seconds(final["prompt_eval_count"], final["eval_count"]))
        if body.get("stream", True):
            piece = {"model": self.model, "message": {"role": "assistant", "content": ANSWER}}
            lines = [json.dumps(piece), json.dumps(final)]
            return "\n".join(lines).encode() + b"\n", "application/x-ndjson"
        final["message"] = {"role": "assistant", "content": ANSWER}
        return json.dumps(final).encode(), "application/json"

    def _read_json(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _send(self, data: dict[str, Any], status: int = 200) -> None:
        self._send_raw(json.dumps(data).encode(), "application/json", status)

    def _send_raw(self, payload: bytes, content_type: str, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def fake_ollama(
    model: str = "bench-model", pace: Pace | None = None
) -> Iterator[tuple[str, Counters]]:
    """Serve on an ephemeral 127.0.0.1 port; yields (base URL, counters)."""
    counters = Counters()
    attrs = {"counters": counters, "model": model, "pace": pace, "busy": threading.Lock()}
    handler = type("Handler", (_Handler,), attrs)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}", counters
    finally:
        server.shutdown()
        server.server_close()
