"""OpenAICompatibleBackend against a fake OpenAI-compatible server (llama.cpp / vLLM shapes)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from reviewer.backends import make_backend
from reviewer.backends.interface import ChunkFailedError, TransientModelError
from reviewer.backends.openai import OpenAICompatibleBackend
from reviewer.chunks.prompt import findings_schema
from reviewer.errors import ConfigError, InvalidAnswerError, ModelError, UsageError
from reviewer.settings.config import Backend
from tests.model_fakes import (
    MODEL,
    answer,
    backend_settings,
    finding,
    openai_completion,
    requests_to,
    serve_openai_models,
)


def backend_for(server: HTTPServer, **over: Any) -> OpenAICompatibleBackend:
    over.setdefault("backend", Backend.OPENAI)
    backend = make_backend(backend_settings(server.url_for("/"), **over))
    assert isinstance(backend, OpenAICompatibleBackend)
    return backend


def chat(backend: OpenAICompatibleBackend) -> Any:
    body = backend.request_body("SYS", "USER", schema=findings_schema())
    return backend.chat(body, estimated_prompt_tokens=500)


def test_chat_request_and_usage(server: HTTPServer) -> None:
    content = answer(finding())
    server.expect_request("/v1/chat/completions", method="POST").respond_with_json(
        openai_completion(content, prompt_tokens=300, completion_tokens=20, cached_tokens=250)
    )
    reply = chat(backend_for(server, seed=9, num_predict=333))
    assert reply.content == content
    assert (reply.prompt_tokens, reply.completion_tokens, reply.cached_tokens) == (300, 20, 250)
    body = json.loads(requests_to(server, "/v1/chat/completions")[0].get_data())
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "findings", "strict": True, "schema": findings_schema()},
    }
    assert (body["temperature"], body["seed"], body["max_tokens"]) == (0, 9, 333)
    assert body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


def test_llama_cpp_cache_count_is_read_from_timings(server: HTTPServer) -> None:
    data = openai_completion(answer())
    del data["usage"]["prompt_tokens_details"]
    data["timings"] = {"cache_n": 123, "prompt_n": 10}
    server.expect_request("/v1/chat/completions").respond_with_json(data)
    assert chat(backend_for(server)).cached_tokens == 123


def test_finish_reason_length_is_invalid(server: HTTPServer) -> None:
    server.expect_request("/v1/chat/completions").respond_with_json(
        openai_completion('{"findings": [', finish_reason="length")
    )
    with pytest.raises(InvalidAnswerError) as e:
        chat(backend_for(server))
    assert e.value.kind == "answer_cut_off"


def test_null_content_is_invalid(server: HTTPServer) -> None:
    server.expect_request("/v1/chat/completions").respond_with_json(openai_completion(None))
    with pytest.raises(InvalidAnswerError):
        chat(backend_for(server))


def test_5xx_retried_4xx_not(server: HTTPServer) -> None:
    server.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "slots busy"}}, status=503
    )
    with pytest.raises(TransientModelError, match="slots busy"):
        chat(backend_for(server, retries=2))
    assert len(requests_to(server, "/v1/chat/completions")) == 3
    server.clear()
    server.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "bad schema"}}, status=400
    )
    with pytest.raises(ModelError, match="bad schema"):
        chat(backend_for(server, retries=2))
    assert len(requests_to(server, "/v1/chat/completions")) == 1


def test_context_exceeded_error_fails_the_chunk(server: HTTPServer) -> None:
    server.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "the request exceeds the available context size"}}, status=400
    )
    with pytest.raises(ChunkFailedError):
        chat(backend_for(server))


def test_truncated_prompt_detected_from_usage(server: HTTPServer) -> None:
    server.expect_request("/v1/chat/completions").respond_with_json(
        openai_completion(answer(), prompt_tokens=4096)
    )
    with pytest.raises(ChunkFailedError) as e:
        chat(backend_for(server, num_ctx=4096))
    assert e.value.kind == "truncated_prompt"


def test_preflight_finds_the_model_and_context(server: HTTPServer) -> None:
    serve_openai_models(server, ("other", MODEL), meta={"n_ctx_train": 32768})
    info = backend_for(server).preflight()
    assert (info.model, info.context_length, info.digest) == (MODEL, 32768, None)


def test_preflight_uses_the_context_the_server_was_started_with(server: HTTPServer) -> None:
    # llama.cpp started with `-c 4096` for a model trained on 8192 reports both.
    serve_openai_models(server, (MODEL,), meta={"n_ctx": 4096, "n_ctx_train": 8192})
    assert backend_for(server, num_ctx=4096).preflight().context_length == 4096
    with pytest.raises(ConfigError) as e:
        backend_for(server, num_ctx=8192).preflight()
    assert "--num-ctx 4096" in (e.value.hint or "")


def test_preflight_missing_model_lists_what_is_served(server: HTTPServer) -> None:
    serve_openai_models(server, ("smollm2.gguf",))
    with pytest.raises(ModelError) as e:
        backend_for(server).preflight()
    assert e.value.kind == "model_missing"
    assert "smollm2.gguf" in (e.value.hint or "")


def test_preflight_refuses_num_ctx_above_max_model_len(server: HTTPServer) -> None:
    serve_openai_models(server, (MODEL,), max_model_len=4096)
    with pytest.raises(ConfigError):
        backend_for(server, num_ctx=8192).preflight()


def test_preflight_not_an_openai_server(server: HTTPServer) -> None:
    server.expect_request("/v1/models").respond_with_json({"models": []})
    with pytest.raises(ModelError) as e:
        backend_for(server).preflight()
    assert e.value.kind == "not_openai"


def test_digest_pinning_needs_ollama(server: HTTPServer) -> None:
    with pytest.raises(UsageError):
        backend_for(server, model_digest="a" * 64)


def test_concurrency_is_allowed_for_openai(server: HTTPServer) -> None:
    assert backend_for(server, concurrency=4).name == "openai"
