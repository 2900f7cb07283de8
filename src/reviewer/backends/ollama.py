"""The Ollama native API: preflight through /api/version, /api/show and /api/tags, and one
streamed /api/chat request per chunk with the findings schema as `format`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from reviewer.backends.digest import verify_digest
from reviewer.backends.http import (
    chat_messages,
    display_url,
    encode_body,
    exchange_json,
    iter_ndjson,
    make_client,
    post_checked,
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
from reviewer.settings.slices import ModelSettings

MAX_JSON_BYTES = 4_000_000  # /api/show can be large (templates, licences)
UNREACHABLE_HINT = (
    "start the server with `ollama serve`, or pass its URL with --ollama-url (OLLAMA_BASE_URL)"
)


def with_default_tag(model: str) -> str:
    """Ollama's name rule: a model without a tag means `:latest`."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


class OllamaBackend:
    """Ollama's native API. Requests are strictly one at a time (see lock.py)."""

    def __init__(self, settings: ModelSettings, policy: RetryPolicy) -> None:
        self._settings = settings
        self._policy = policy
        self._url = settings.base_url
        self._lock_wait = lock_timeout(settings.lock_timeout, settings.timeout)
        self._client = make_client(
            settings.base_url,
            settings.connect_timeout,
            settings.timeout,
            allow_remote=settings.allow_remote_model,
        )

    @property
    def name(self) -> str:
        return "ollama"

    def generation_options(self) -> dict[str, Any]:
        s = self._settings
        # Identical for every request of a run: a change of num_ctx makes Ollama reload.
        return {
            "temperature": 0,
            "seed": s.seed,
            "num_ctx": s.num_ctx,
            "num_predict": s.num_predict,
        }

    def close(self) -> None:
        self._client.close()

    # --- preflight ------------------------------------------------------------------------

    def preflight(self) -> ServerInfo:
        version = call_with_retry(self._version, self._policy)
        show = call_with_retry(self._show, self._policy)
        digest = call_with_retry(self._tags_digest, self._policy)
        if self._settings.model_digest:
            verify_digest(self._settings.model, self._settings.model_digest, digest)
        context = _context_length(show)
        check_context_length(self._settings.num_ctx, self._settings.model, context)
        return ServerInfo(
            version=version, model=self._settings.model, digest=digest, context_length=context
        )

    def _get_json(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return exchange_json(
            self._client,
            self._url,
            (method, path, body),
            timeout=self._settings.timeout,
            limit=MAX_JSON_BYTES,
            unreachable_hint=UNREACHABLE_HINT,
        )

    def _version(self) -> str | None:
        status, data = self._get_json("GET", "/api/version")
        if status != 200 or not isinstance(data, dict):
            raise ModelError(
                f"{display_url(self._url)} does not look like an Ollama server "
                f"(/api/version answered HTTP {status})",
                "check OLLAMA_BASE_URL, or use --backend openai for an OpenAI-compatible server",
                kind="not_ollama",
            )
        version = data.get("version")
        return version if isinstance(version, str) else None

    def _show(self) -> dict[str, Any]:
        status, data = self._get_json("POST", "/api/show", {"model": self._settings.model})
        if status == 404:
            raise ModelError(
                f"model {self._settings.model} is not on the Ollama server at "
                f"{display_url(self._url)}",
                f"run `ollama pull {self._settings.model}`",
                kind="model_missing",
            )
        if status != 200 or not isinstance(data, dict):
            raise ModelError(
                f"/api/show for {self._settings.model} answered HTTP {status}",
                "check the model name",
                kind="http_error",
            )
        return data

    def _tags_digest(self) -> str | None:
        status, data = self._get_json("GET", "/api/tags")
        if status != 200 or not isinstance(data, dict):
            return None
        want = with_default_tag(self._settings.model)
        for entry in data.get("models") or []:
            if not isinstance(entry, dict):
                continue
            names = {entry.get("name"), entry.get("model")}
            digest = entry.get("digest")
            if want in names and isinstance(digest, str):
                return digest
        return None

    # --- chat -----------------------------------------------------------------------------

    def request_body(self, system: str, user: str, *, schema: dict[str, Any]) -> bytes:
        return encode_body(
            {
                "model": self._settings.model,
                "messages": chat_messages(system, user),
                "stream": True,
                "format": schema,
                "options": self.generation_options(),
                "keep_alive": self._settings.keep_alive,
                # Newer servers then refuse an over-long prompt instead of cutting it.
                "truncate": False,
            }
        )

    def chat(self, body: bytes, *, estimated_prompt_tokens: int) -> ModelReply:
        check_fits(estimated_prompt_tokens, self._settings.num_ctx)

        def attempt() -> ModelReply:
            with request_slot(self._url, True, self._lock_wait):
                return self._stream_chat(body)

        return call_with_retry(attempt, self._policy)

    def _stream_chat(self, body: bytes) -> ModelReply:
        started = time.monotonic()
        with post_checked(
            self._client,
            self._url,
            "/api/chat",
            body,
            self._settings.timeout,
            unreachable_hint=UNREACHABLE_HINT,
        ) as (response, deadline):
            parts, final = _collect(iter_ndjson(response, deadline), self._settings.model)
        return self._reply("".join(parts), final, time.monotonic() - started)

    def _reply(self, content: str, final: dict[str, Any], duration: float) -> ModelReply:
        prompt_tokens = reported_count(final, "prompt_eval_count")
        completion_tokens = reported_count(final, "eval_count")
        if final.get("done_reason") == "length":
            raise answer_cut_off(self._settings.num_predict, prompt_tokens, completion_tokens)
        check_not_truncated(prompt_tokens, self._settings.num_ctx)
        return ModelReply(
            content=content,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            finish_reason=_text(final, "done_reason"),
            duration_s=duration,
        )


def same_model(requested: str, answered: str) -> bool:
    """Ollama echoes the requested name; only the implicit `:latest` tag and case may differ."""
    return with_default_tag(requested).lower() == with_default_tag(answered).lower()


def _check_model(obj: dict[str, Any], requested: str) -> None:
    """A server that answers with another model than the one asked for (and recorded in the
    findings document) is an integrity problem: the answer is not used."""
    answered = obj.get("model")
    if isinstance(answered, str) and not same_model(requested, answered):
        raise ModelError(
            f"asked for model {requested} but the server answered as {answered[:200]}",
            "the server (or a proxy in front of it) serves a different model than requested; "
            "check the server, or pass the model it serves with --model",
            kind="model_mismatch",
        )


def _collect(lines: Iterator[dict[str, Any]], model: str) -> tuple[list[str], dict[str, Any]]:
    """Accumulate the streamed message content up to the `done` line."""
    parts: list[str] = []
    size = 0
    for obj in lines:
        _check_model(obj, model)
        if "error" in obj:
            # Ollama reports failures after the 200 header as an {"error": ...} line (a runner
            # crash, out of memory): transient, so retried.
            raise TransientModelError(
                f"the model server failed mid-answer: {str(obj['error'])[:300]}",
                "check the Ollama server's log",
                kind="server_error",
            )
        message = obj.get("message")
        piece = message.get("content") if isinstance(message, dict) else None
        if isinstance(piece, str):
            parts.append(piece)
            size += len(piece)
            if size > MAX_ANSWER_BYTES:
                raise InvalidAnswerError("the answer is too large", kind="answer_too_large")
        if obj.get("done") is True:
            return parts, obj
    raise TransientModelError(
        "the model server's stream ended before the answer was done", kind="protocol"
    )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _context_length(show: dict[str, Any]) -> int | None:
    """`<architecture>.context_length` from /api/show's model_info, when reported."""
    info = show.get("model_info")
    if not isinstance(info, dict):
        return None
    arch = info.get("general.architecture")
    keys = [f"{arch}.context_length"] if isinstance(arch, str) else []
    keys += [k for k in info if isinstance(k, str) and k.endswith(".context_length")]
    for key in keys:
        value = info.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
