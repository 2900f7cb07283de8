"""OpenAI-compatible chat completions (llama.cpp's server, vLLM, LocalAI, LM Studio): preflight
through GET /v1/models, then one non-streamed POST /v1/chat/completions per chunk with the
findings schema as a strict `json_schema` response format.

Not streamed on purpose: the answer is small, every server implements the plain response the
same way, and the total deadline and byte bound apply to the body just as well."""

from __future__ import annotations

import time
from typing import Any

from reviewer.backends.http import (
    Deadline,
    chat_messages,
    check_status,
    display_url,
    encode_body,
    loads,
    make_client,
    post_checked,
    read_bounded,
    transport_errors,
)
from reviewer.backends.interface import (
    MAX_ANSWER_BYTES,
    ModelReply,
    ServerInfo,
    TransientModelError,
)
from reviewer.backends.lock import lock_timeout, request_slot
from reviewer.backends.retry import RetryPolicy, call_with_retry
from reviewer.backends.truncation import (
    answer_cut_off,
    check_context_length,
    check_fits,
    check_not_truncated,
    reported_count,
)
from reviewer.errors import InvalidAnswerError, ModelError
from reviewer.settings.config import DEFAULT_OPENAI_URL
from reviewer.settings.slices import ModelSettings

# The answer inside a JSON body: escaping can double it.
MAX_BODY_BYTES = 2 * MAX_ANSWER_BYTES
UNREACHABLE_HINT = (
    "start the server (llama.cpp: `llama-server -m MODEL.gguf`, which listens on "
    f"{DEFAULT_OPENAI_URL}; vLLM: `vllm serve MODEL`, on port 8000) and pass its URL, "
    "without /v1, with --base-url (REVIEWER_BASE_URL)"
)


class OpenAICompatibleBackend:
    """An OpenAI-compatible server. With --concurrency 1 (the default) requests are one at a
    time across processes too; with N > 1 the server is trusted to batch."""

    def __init__(self, settings: ModelSettings, policy: RetryPolicy) -> None:
        self._settings = settings
        self._policy = policy
        self._url = settings.base_url
        self._lock_wait = lock_timeout(settings.lock_timeout, settings.timeout)
        self._exclusive = settings.concurrency == 1
        self._client = make_client(
            settings.base_url,
            settings.connect_timeout,
            settings.timeout,
            allow_remote=settings.allow_remote_model,
        )

    @property
    def name(self) -> str:
        return "openai"

    def generation_options(self) -> dict[str, Any]:
        return {
            "temperature": 0,
            "seed": self._settings.seed,
            "max_tokens": self._settings.num_predict,
        }

    def close(self) -> None:
        self._client.close()

    # --- preflight ------------------------------------------------------------------------

    def preflight(self) -> ServerInfo:
        models = call_with_retry(self._models, self._policy)
        entry = next((m for m in models if m.get("id") == self._settings.model), None)
        if entry is None:
            ids = ", ".join(str(m.get("id")) for m in models[:10]) or "none"
            raise ModelError(
                f"model {self._settings.model} is not served by {display_url(self._url)}",
                f"the server lists: {ids}; pass one of them with --model",
                kind="model_missing",
            )
        context = _context_length(entry)
        check_context_length(self._settings.num_ctx, self._settings.model, context)
        return ServerInfo(model=self._settings.model, context_length=context)

    def _models(self) -> list[dict[str, Any]]:
        deadline = Deadline(self._settings.timeout)
        with (
            transport_errors(self._url, deadline, unreachable_hint=UNREACHABLE_HINT),
            self._client.stream("GET", "/v1/models") as response,
        ):
            check_status(response, deadline, self._url)
            raw = read_bounded(response, deadline, MAX_BODY_BYTES)
        data = _json_object(raw)
        entries = data.get("data") if data is not None else None
        if not isinstance(entries, list):
            raise ModelError(
                f"{display_url(self._url)}/v1/models is not an OpenAI-compatible model list",
                "check --base-url, or use --backend ollama for an Ollama server",
                kind="not_openai",
            )
        return [e for e in entries if isinstance(e, dict)]

    # --- chat -----------------------------------------------------------------------------

    def request_body(self, system: str, user: str, *, schema: dict[str, Any]) -> bytes:
        return encode_body(
            {
                "model": self._settings.model,
                "messages": chat_messages(system, user),
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {
                        "name": "findings",
                        "strict": True,
                        "schema": schema,
                    },
                },
                "stream": False,
                **self.generation_options(),
            }
        )

    def chat(self, body: bytes, *, estimated_prompt_tokens: int) -> ModelReply:
        check_fits(estimated_prompt_tokens, self._settings.num_ctx)

        def attempt() -> ModelReply:
            with request_slot(self._url, self._exclusive, self._lock_wait):
                return self._complete(body)

        return call_with_retry(attempt, self._policy)

    def _complete(self, body: bytes) -> ModelReply:
        started = time.monotonic()
        with post_checked(
            self._client,
            self._url,
            "/v1/chat/completions",
            body,
            self._settings.timeout,
            unreachable_hint=UNREACHABLE_HINT,
        ) as (response, deadline):
            raw = read_bounded(response, deadline, MAX_BODY_BYTES)
        data = _json_object(raw)
        if data is None:
            raise TransientModelError(
                "the model server sent a response that is not a JSON object", kind="protocol"
            )
        return self._reply(data, time.monotonic() - started)

    def _reply(self, data: dict[str, Any], duration: float) -> ModelReply:
        if "error" in data:
            raise TransientModelError(
                f"the model server failed: {str(data['error'])[:300]}", kind="server_error"
            )
        _check_model(data, self._settings.model)
        choice = _first_choice(data)
        raw_usage = data.get("usage")
        usage: dict[str, Any] = raw_usage if isinstance(raw_usage, dict) else {}
        prompt_tokens = reported_count(usage, "prompt_tokens")
        completion_tokens = reported_count(usage, "completion_tokens")
        if choice.get("finish_reason") == "length":
            raise answer_cut_off(self._settings.num_predict, prompt_tokens, completion_tokens)
        message = choice.get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            raise InvalidAnswerError("the answer has no message content")
        check_not_truncated(prompt_tokens, self._settings.num_ctx)
        finish = choice.get("finish_reason")
        return ModelReply(
            content=content,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cached_tokens=_cached_tokens(data, usage),
            finish_reason=finish if isinstance(finish, str) else None,
            duration_s=duration,
        )


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        data = loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def model_key(name: str) -> str:
    """A served model name reduced to what identifies it: servers report the alias, a repo id
    (`Qwen/Qwen2.5-Coder-7B-Instruct`) or a file (`/models/qwen2.5-coder-7b-q4_k_m.gguf`)."""
    base = name.strip().lower().replace("\\", "/").rsplit("/", 1)[-1]
    base = base.removesuffix(".gguf").removesuffix(":latest")
    return base


def same_served_model(requested: str, answered: str) -> bool:
    """Lenient: equal after `model_key`, or one name contains the other (a quantisation or
    file suffix). Different model families are still told apart."""
    want, got = model_key(requested), model_key(answered)
    return not want or not got or want in got or got in want


def _check_model(data: dict[str, Any], requested: str) -> None:
    answered = data.get("model")
    if isinstance(answered, str) and not same_served_model(requested, answered):
        raise ModelError(
            f"asked for model {requested} but the server answered as {answered[:200]}",
            "the server serves a different model than requested; pass the model it serves "
            "(GET /v1/models) with --model",
            kind="model_mismatch",
        )


def _first_choice(data: dict[str, Any]) -> dict[str, Any]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise InvalidAnswerError("the response has no choices")
    return choices[0]


def _cached_tokens(data: dict[str, Any], usage: dict[str, Any]) -> int:
    """OpenAI's usage.prompt_tokens_details.cached_tokens, else llama.cpp's timings.cache_n."""
    cached = reported_count(usage.get("prompt_tokens_details"), "cached_tokens")
    return cached or reported_count(data.get("timings"), "cache_n")


def _context_length(entry: dict[str, Any]) -> int | None:
    """vLLM's max_model_len, or llama.cpp's meta.n_ctx: the context the server was started
    with (`-c`), which can be below what the model was trained for (meta.n_ctx_train)."""
    meta = entry.get("meta") or {}
    if not isinstance(meta, dict):
        meta = {}
    candidates = (entry.get("max_model_len"), meta.get("n_ctx"), meta.get("n_ctx_train"))
    for value in candidates:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
