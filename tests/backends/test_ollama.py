"""OllamaBackend against a fake Ollama server that speaks the documented NDJSON API."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.backends import make_backend
from reviewer.backends.interface import MAX_ANSWER_BYTES, ChunkFailedError, TransientModelError
from reviewer.backends.ollama import OllamaBackend, with_default_tag
from reviewer.chunks.prompt import findings_schema
from reviewer.errors import ConfigError, InvalidAnswerError, ModelError, UsageError
from reviewer.settings.slices import ModelSettings
from tests.model_fakes import (
    DIGEST,
    MODEL,
    answer,
    backend_settings,
    finding,
    ndjson_bytes,
    ollama_stream,
    requests_to,
    serve_ollama_chat,
    serve_ollama_preflight,
    split_response,
)


def settings_for(server: HTTPServer, **over: Any) -> ModelSettings:
    return backend_settings(server.url_for("/"), **over)


def backend_for(server: HTTPServer, **over: Any) -> OllamaBackend:
    backend = make_backend(settings_for(server, **over))
    assert isinstance(backend, OllamaBackend)
    return backend


def chat(backend: OllamaBackend, estimate: int = 500) -> Any:
    body = backend.request_body("SYS", "USER", schema=findings_schema())
    return backend.chat(body, estimated_prompt_tokens=estimate)


def test_chat_sends_the_documented_request_and_joins_the_stream(server: HTTPServer) -> None:
    content = answer(finding())
    serve_ollama_chat(server, content, pieces=5, prompt_eval_count=321, eval_count=17)
    reply = chat(backend_for(server, num_ctx=4096, num_predict=512, seed=7, keep_alive="10m"))
    assert reply.content == content
    assert (reply.prompt_tokens, reply.completion_tokens) == (321, 17)
    assert reply.finish_reason == "stop"
    body = json.loads(requests_to(server, "/api/chat")[0].get_data())
    assert body["model"] == MODEL
    assert body["messages"] == [
        {"role": "system", "content": "SYS"},
        {"role": "user", "content": "USER"},
    ]
    assert body["stream"] is True
    assert body["format"] == findings_schema()
    assert body["options"] == {"temperature": 0, "seed": 7, "num_ctx": 4096, "num_predict": 512}
    assert body["keep_alive"] == "10m"
    assert body["truncate"] is False


def test_options_are_identical_for_every_request(server: HTTPServer) -> None:
    serve_ollama_chat(server, answer())
    backend = backend_for(server)
    chat(backend)
    chat(backend)
    bodies = [json.loads(r.get_data()) for r in requests_to(server, "/api/chat")]
    assert len(bodies) == 2
    assert bodies[0]["options"] == bodies[1]["options"]


def test_ndjson_lines_split_across_reads_are_parsed_whole(server: HTTPServer) -> None:
    # Non-ASCII content so some pieces also cut a UTF-8 character in two.
    content = answer(finding(title="Dividir por cero — ÿ ñ 例"))
    data = ndjson_bytes(ollama_stream(content, pieces=9))
    server.expect_request("/api/chat").respond_with_handler(lambda _: split_response(data, 5))
    assert chat(backend_for(server)).content == content


def test_mid_stream_error_line_is_an_error_and_retried(server: HTTPServer) -> None:
    lines = ollama_stream(answer(), pieces=2)[:1] + [{"error": "runner process has terminated"}]
    data = ndjson_bytes(lines)
    server.expect_request("/api/chat").respond_with_handler(lambda _: split_response(data, 50))
    with pytest.raises(TransientModelError, match="runner process has terminated"):
        chat(backend_for(server, retries=1))
    assert len(requests_to(server, "/api/chat")) == 2


def test_done_reason_length_is_an_invalid_answer(server: HTTPServer) -> None:
    serve_ollama_chat(server, '{"findings": [', done_reason="length", eval_count=1024)
    with pytest.raises(InvalidAnswerError) as e:
        chat(backend_for(server))
    assert e.value.kind == "answer_cut_off"
    assert (e.value.prompt_tokens, e.value.completion_tokens) == (400, 1024)


def test_stream_ending_without_done_is_retried_then_fails(server: HTTPServer) -> None:
    data = ndjson_bytes(ollama_stream(answer())[:-1])
    server.expect_request("/api/chat").respond_with_handler(lambda _: split_response(data, 80))
    with pytest.raises(TransientModelError):
        chat(backend_for(server, retries=2))
    assert len(requests_to(server, "/api/chat")) == 3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_a_bounded_number_of_times(server: HTTPServer, status: int) -> None:
    server.expect_request("/api/chat").respond_with_json({"error": "busy"}, status=status)
    with pytest.raises(TransientModelError) as e:
        chat(backend_for(server, retries=3))
    assert e.value.exit_code == 3
    assert len(requests_to(server, "/api/chat")) == 4  # the first attempt and 3 retries


def test_503_then_success_recovers(server: HTTPServer) -> None:
    calls = {"n": 0}
    ok = ndjson_bytes(ollama_stream(answer()))

    def handler(_: Request) -> Response:
        calls["n"] += 1
        if calls["n"] == 1:
            return Response('{"error":"server busy, please try again"}', status=503)
        return Response(ok, mimetype="application/x-ndjson")

    server.expect_request("/api/chat").respond_with_handler(handler)
    assert chat(backend_for(server)).content == answer()
    assert calls["n"] == 2


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_4xx_is_not_retried(server: HTTPServer, status: int) -> None:
    server.expect_request("/api/chat").respond_with_json({"error": "bad request"}, status=status)
    with pytest.raises(ModelError) as e:
        chat(backend_for(server, retries=3))
    assert not isinstance(e.value, TransientModelError)
    assert "bad request" in e.value.message
    assert len(requests_to(server, "/api/chat")) == 1


def test_prompt_refused_for_context_length_fails_the_chunk(server: HTTPServer) -> None:
    server.expect_request("/api/chat").respond_with_json(
        {"error": "input length exceeds the context length"}, status=400
    )
    with pytest.raises(ChunkFailedError) as e:
        chat(backend_for(server))
    assert e.value.kind == "prompt_too_long"


def test_silently_truncated_prompt_is_detected(server: HTTPServer) -> None:
    # An old server cut a longer prompt to fit num_ctx and reports the full window.
    serve_ollama_chat(server, answer(), prompt_eval_count=2048)
    with pytest.raises(ChunkFailedError) as e:
        chat(backend_for(server, num_ctx=2048), estimate=1900)
    assert e.value.kind == "truncated_prompt"


def test_a_small_count_from_a_cached_prefix_is_not_truncation(server: HTTPServer) -> None:
    # Ollama may report only the uncached part of the prompt: a small number is fine.
    serve_ollama_chat(server, answer(), prompt_eval_count=3)
    assert chat(backend_for(server, num_ctx=2048), estimate=1500).prompt_tokens == 3


def test_prompt_estimated_above_num_ctx_is_never_sent(server: HTTPServer) -> None:
    serve_ollama_chat(server, answer())
    with pytest.raises(ChunkFailedError) as e:
        chat(backend_for(server, num_ctx=1024), estimate=5000)
    assert e.value.kind == "prompt_too_long"
    assert requests_to(server, "/api/chat") == []


def test_runaway_answer_is_refused(server: HTTPServer) -> None:
    big = "x" * (MAX_ANSWER_BYTES // 3)
    lines = [{"message": {"role": "assistant", "content": big}, "done": False}] * 4
    data = ndjson_bytes(lines + ollama_stream("")[-1:])
    server.expect_request("/api/chat").respond_with_handler(lambda _: Response(data))
    with pytest.raises(InvalidAnswerError) as e:
        chat(backend_for(server))
    assert e.value.kind == "answer_too_large"


def test_unreachable_server_is_retried_then_fails() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    backend = make_backend(ModelSettings(base_url=url, retries=2, connect_timeout=1, timeout=2))
    with pytest.raises(TransientModelError) as e:
        backend.preflight()
    assert e.value.kind == "unreachable"
    assert "ollama serve" in (e.value.hint or "")


def test_read_timeout_fails_without_retry(server: HTTPServer) -> None:
    seen = []

    def slow(request: Request) -> Response:
        seen.append(request.path)
        time.sleep(1.5)
        return Response(ndjson_bytes(ollama_stream(answer())))

    server.expect_request("/api/chat").respond_with_handler(slow)
    with pytest.raises(ModelError) as e:
        chat(backend_for(server, timeout=1.0, retries=3))
    assert e.value.kind == "timeout"
    assert seen == ["/api/chat"]


def test_total_deadline_applies_to_a_trickling_stream(server: HTTPServer) -> None:
    # Each piece arrives well within the per-read timeout, but the whole answer does not.
    data = ndjson_bytes(ollama_stream(answer(), pieces=40))
    server.expect_request("/api/chat").respond_with_handler(
        lambda _: split_response(data, piece=40, pause=0.1)
    )
    with pytest.raises(ModelError) as e:
        chat(backend_for(server, timeout=1.0, retries=0))
    assert e.value.kind == "timeout"


# --- preflight -----------------------------------------------------------------------------


def test_preflight_reads_version_digest_and_context(server: HTTPServer) -> None:
    serve_ollama_preflight(server, context_length=32768)
    info = backend_for(server).preflight()
    assert (info.version, info.digest, info.context_length) == ("0.5.1", DIGEST, 32768)


def test_missing_model_says_ollama_pull(server: HTTPServer) -> None:
    serve_ollama_preflight(server, model="other:1b")
    with pytest.raises(ModelError) as e:
        backend_for(server).preflight()
    assert e.value.kind == "model_missing"
    assert e.value.hint == f"run `ollama pull {MODEL}`"


@pytest.mark.parametrize("pinned", [DIGEST, f"sha256:{DIGEST}", DIGEST[:12].upper()])
def test_matching_digest_is_accepted(server: HTTPServer, pinned: str) -> None:
    serve_ollama_preflight(server)
    assert backend_for(server, model_digest=pinned).preflight().digest == DIGEST


def test_digest_mismatch_fails_closed(server: HTTPServer) -> None:
    serve_ollama_preflight(server)
    with pytest.raises(ModelError) as e:
        backend_for(server, model_digest="0" * 64).preflight()
    assert e.value.kind == "digest_mismatch"
    assert e.value.exit_code == 3


def test_malformed_digest_setting_is_a_config_error(server: HTTPServer) -> None:
    serve_ollama_preflight(server)
    with pytest.raises(ConfigError):
        backend_for(server, model_digest="abc").preflight()


def test_num_ctx_above_the_model_context_is_refused(server: HTTPServer) -> None:
    serve_ollama_preflight(server, context_length=4096)
    with pytest.raises(ConfigError) as e:
        backend_for(server, num_ctx=8192).preflight()
    assert e.value.exit_code == 2
    assert "4096" in e.value.message


def test_context_length_not_reported_is_fine(server: HTTPServer) -> None:
    serve_ollama_preflight(server, context_length=None)
    assert backend_for(server).preflight().context_length is None


def test_not_an_ollama_server(server: HTTPServer) -> None:
    server.expect_request("/api/version").respond_with_data("nope", status=404)
    with pytest.raises(ModelError) as e:
        backend_for(server).preflight()
    assert e.value.kind == "not_ollama"
    assert "--backend openai" in (e.value.hint or "")


def test_concurrency_above_one_is_refused_for_ollama(server: HTTPServer) -> None:
    with pytest.raises(UsageError, match="--concurrency 2"):
        make_backend(settings_for(server, concurrency=2))


def test_url_credentials_never_appear_in_messages(server: HTTPServer) -> None:
    url = server.url_for("/").rstrip("/").replace("http://", "http://user:s3cret@")
    server.expect_request("/api/chat").respond_with_json({"error": "x"}, status=500)
    backend = make_backend(ModelSettings(base_url=url, retries=0, timeout=5))
    with pytest.raises(ModelError) as e:
        backend.chat(backend.request_body("s", "u", schema=findings_schema()),
                     estimated_prompt_tokens=10)
    assert "s3cret" not in e.value.message
    assert "user" not in e.value.message


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_default_tag() -> None:
    assert with_default_tag("llama3") == "llama3:latest"
    assert with_default_tag("qwen2.5-coder:7b") == "qwen2.5-coder:7b"
    assert with_default_tag("my.registry:5000/ns/model") == "my.registry:5000/ns/model:latest"


def test_the_schema_it_is_given_is_the_format_it_sends(server: HTTPServer) -> None:
    serve_ollama_chat(server, answer())
    backend = backend_for(server)
    backend.chat(backend.request_body("SYS", "USER", schema=findings_schema(3)),
                 estimated_prompt_tokens=500)
    body = json.loads(requests_to(server, "/api/chat")[0].get_data())
    assert body["format"] == findings_schema(3)
    assert body["format"]["properties"]["findings"]["maxItems"] == 3
