"""Prompt tokens counted by the model server itself, for the estimate's calibration and for the
check that a request fits before it is sent.

- llama.cpp: POST /apply-template turns the messages into the prompt string the model reads,
  POST /tokenize counts it (with the special tokens the chat path adds): exact.
- vLLM: POST /tokenize with the model and the messages: exact.
- Ollama has no tokenize endpoint: a chat request that may answer one token reports
  `prompt_eval_count`, which leaves out a prefix its prompt cache reused (not exact).

Same URL rules, client and timeouts as the chat requests (backends/http.py)."""

from __future__ import annotations

from typing import Any, Protocol

import httpx

from reviewer.backends.http import chat_messages, exchange_json, make_client
from reviewer.backends.lock import lock_timeout, request_slot
from reviewer.backends.truncation import check_counted_fits, reported_count
from reviewer.errors import ModelError
from reviewer.settings.config import Backend
from reviewer.settings.slices import ModelSettings

# A count's answer lists token ids: a few bytes per token of a context of up to a million.
MAX_COUNT_BYTES = 16_000_000

_HINT = "check the model server; counting prompt tokens is part of its API"


class PromptCounter(Protocol):
    """A server's own count of a request's prompt tokens (system, user and chat template)."""

    @property
    def exact(self) -> bool:
        """True when the count is the tokenizer's (llama.cpp, vLLM); False for Ollama, whose
        count leaves out what its prompt cache reused."""
        ...

    @property
    def source(self) -> str:
        """Where the count comes from, for --debug: `llama.cpp /tokenize` and the like."""
        ...

    def count(self, system: str, user: str) -> int:
        """The prompt tokens of one request. Raises a ModelError when the server cannot say."""
        ...

    def checked_count(self, system: str, user: str) -> int:
        """`count`, refusing (ChunkFailedError) a request over the room the context leaves
        beside the answer: it must not be sent."""
        ...

    def close(self) -> None: ...


class _Counter:
    """The client and settings every counter shares."""

    source = ""

    def __init__(self, settings: ModelSettings, client: httpx.Client | None = None) -> None:
        self._settings = settings
        self._client = client or make_client(
            settings.base_url,
            settings.connect_timeout,
            settings.timeout,
            allow_remote=settings.allow_remote_model,
        )

    def close(self) -> None:
        self._client.close()

    def count(self, system: str, user: str) -> int:
        raise NotImplementedError

    def checked_count(self, system: str, user: str) -> int:
        counted = self.count(system, user)
        check_counted_fits(counted, self._settings.num_ctx, self._settings.num_predict)
        return counted

    def _post(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        return exchange_json(
            self._client,
            self._settings.base_url,
            ("POST", path, body),
            timeout=self._settings.timeout,
            limit=MAX_COUNT_BYTES,
            unreachable_hint=_HINT,
        )

    def _refused(self, path: str, status: int) -> ModelError:
        return ModelError(
            f"the model server's {path} answered HTTP {status} without a token count",
            _HINT,
            kind="protocol",
        )


class LlamaCppCounter(_Counter):
    exact = True
    source = "llama.cpp /apply-template + /tokenize"

    def count(self, system: str, user: str) -> int:
        status, data = self._post("/apply-template", {"messages": chat_messages(system, user)})
        prompt = data.get("prompt") if isinstance(data, dict) else None
        if status != 200 or not isinstance(prompt, str):
            raise self._refused("/apply-template", status)
        # The chat path tokenizes the templated prompt with the model's special tokens (BOS).
        body = {"content": prompt, "add_special": True, "parse_special": True}
        status, data = self._post("/tokenize", body)
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if status != 200 or not isinstance(tokens, list):
            raise self._refused("/tokenize", status)
        return len(tokens)


class VllmCounter(_Counter):
    exact = True
    source = "vLLM /tokenize"

    def count(self, system: str, user: str) -> int:
        body = {
            "model": self._settings.model,
            "messages": chat_messages(system, user),
            "add_generation_prompt": True,
        }
        status, data = self._post("/tokenize", body)
        count = reported_count(data, "count")
        if status != 200 or not count:
            raise self._refused("/tokenize", status)
        return count


class OllamaCounter(_Counter):
    exact = False
    source = "Ollama prompt_eval_count"

    def count(self, system: str, user: str) -> int:
        s = self._settings
        body = {
            "model": s.model,
            "messages": chat_messages(system, user),
            "stream": False,
            # The run's own num_ctx (another would make Ollama reload the model); one token
            # of answer, which is not read.
            "options": {"temperature": 0, "seed": s.seed, "num_ctx": s.num_ctx, "num_predict": 1},
            "keep_alive": s.keep_alive,
            "truncate": False,
        }
        with request_slot(s.base_url, True, lock_timeout(s.lock_timeout, s.timeout)):
            status, data = self._post("/api/chat", body)
        count = reported_count(data, "prompt_eval_count")
        if status != 200 or not count:
            raise self._refused("/api/chat", status)
        return count


def open_counter(settings: ModelSettings) -> PromptCounter | None:
    """The counter the server offers, or None when it offers none (an OpenAI-compatible server
    without a tokenize endpoint) or cannot be asked. Probes with a tiny request: llama.cpp's
    endpoints first, then vLLM's."""
    if settings.backend is Backend.OLLAMA:
        return OllamaCounter(settings)
    for kind in (LlamaCppCounter, VllmCounter):
        counter = kind(settings)
        try:
            counter.count("", "ok")
        except ModelError:
            counter.close()
            continue
        return counter
    return None

