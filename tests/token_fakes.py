"""Fake model servers that count tokens by a known rule, for the calibration tests: llama.cpp
(/apply-template, /tokenize, chat completions with usage), vLLM (/tokenize with messages) and
Ollama (prompt_eval_count with a prompt cache that leaves out the prefix it reused, as Ollama's
does). Every request is recorded with its real count, so a test can check what was sent."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.model_fakes import MODEL, ndjson_bytes, ollama_stream, openai_completion

ANSWER = json.dumps({"findings": []})


def template(messages: list[dict[str, str]]) -> str:
    """The fake chat template: what the model reads for the messages."""
    body = "".join(f"<|{m['role']}|>\n{m['content']}<|end|>\n" for m in messages)
    return body + "<|assistant|>\n"


@dataclass
class Tokenizer:
    """One token per 3 characters, except `fine`, a character it splits into a token each
    (as real tokenizers do with rare characters): text whose real count beats the estimate."""

    fine: str = "\u00a7"
    per_fine: int = 1  # tokens each `fine` character costs

    def count(self, text: str) -> int:
        n = text.count(self.fine)
        return n * self.per_fine + -(-(len(text) - n) // 3)


@dataclass
class CountingServer:
    """The state every fake shares: its tokenizer, its context and what it was asked."""

    num_ctx: int = 8192
    tokenizer: Tokenizer = field(default_factory=Tokenizer)
    chats: list[int] = field(default_factory=list)  # real prompt tokens of each chat request
    counts: int = 0  # /tokenize and /apply-template requests
    calibrations: int = 0  # Ollama chat requests that only count (num_predict 1)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def real(self, messages: list[dict[str, str]]) -> int:
        return self.tokenizer.count(template(messages))


def serve_llama_cpp(server: HTTPServer, state: CountingServer) -> None:
    meta = {"n_ctx": state.num_ctx, "n_ctx_train": 32768}
    server.expect_request("/v1/models", method="GET").respond_with_json(
        {"object": "list", "data": [{"id": MODEL, "object": "model", "meta": meta}]}
    )

    def apply_template(request: Request) -> Response:
        with state.lock:
            state.counts += 1
        prompt = template(request.get_json()["messages"])
        return Response(json.dumps({"prompt": prompt}), mimetype="application/json")

    def tokenize(request: Request) -> Response:
        with state.lock:
            state.counts += 1
        body = request.get_json()
        if not isinstance(body.get("content"), str):
            return Response('{"error": "content missing"}', status=400)
        tokens = list(range(state.tokenizer.count(body["content"])))
        return Response(json.dumps({"tokens": tokens}), mimetype="application/json")

    server.expect_request("/apply-template", method="POST").respond_with_handler(apply_template)
    server.expect_request("/tokenize", method="POST").respond_with_handler(tokenize)
    _serve_completions(server, state)


def serve_vllm(server: HTTPServer, state: CountingServer) -> None:
    server.expect_request("/v1/models", method="GET").respond_with_json(
        {"object": "list", "data": [{"id": MODEL, "max_model_len": state.num_ctx}]}
    )

    def tokenize(request: Request) -> Response:
        with state.lock:
            state.counts += 1
        body = request.get_json()
        if body.get("model") != MODEL or "messages" not in body:
            return Response('{"error": "bad request"}', status=400)
        count = state.real(body["messages"])
        reply = {"count": count, "max_model_len": state.num_ctx, "tokens": list(range(count))}
        return Response(json.dumps(reply), mimetype="application/json")

    server.expect_request("/tokenize", method="POST").respond_with_handler(tokenize)
    _serve_completions(server, state)


def _serve_completions(server: HTTPServer, state: CountingServer) -> None:
    def chat(request: Request) -> Response:
        real = state.real(request.get_json()["messages"])
        with state.lock:
            state.chats.append(real)
        if real > state.num_ctx:
            error = {"error": {"message": "the request exceeds the available context size"}}
            return Response(json.dumps(error), status=400, mimetype="application/json")
        return Response(
            json.dumps(openai_completion(ANSWER, prompt_tokens=real, completion_tokens=9)),
            mimetype="application/json",
        )

    server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(chat)


class OllamaChat:
    """/api/chat counting like Ollama: `prompt_eval_count` is the prompt's tokens less the
    prefix its cache still holds from the previous request (one slot)."""

    def __init__(self, state: CountingServer) -> None:
        self.state = state
        self.previous = ""

    def evaluated(self, prompt: str) -> int:
        """What Ollama reports for `prompt`: its tokens less the whole tokens of the prefix it
        shares with the previous request."""
        return self.state.tokenizer.count(prompt) - _common_prefix(prompt, self.previous) // 3

    def __call__(self, request: Request) -> Response:
        body: dict[str, Any] = request.get_json()
        prompt = template(body["messages"])
        with self.state.lock:
            real, evaluated = self.state.tokenizer.count(prompt), self.evaluated(prompt)
            self.previous = prompt
            counting = body.get("options", {}).get("num_predict") == 1
            if counting:
                self.state.calibrations += 1
            else:
                self.state.chats.append(real)
        if real > self.state.num_ctx:
            error = {"error": "the input length exceeds the context length"}
            return Response(json.dumps(error), status=400, mimetype="application/json")
        if body.get("stream") is False:
            final = ollama_stream("", prompt_eval_count=evaluated, eval_count=1)[-1]
            return Response(json.dumps(final), mimetype="application/json")
        lines = ollama_stream(ANSWER, prompt_eval_count=evaluated, eval_count=9)
        return Response(ndjson_bytes(lines), mimetype="application/x-ndjson")


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
