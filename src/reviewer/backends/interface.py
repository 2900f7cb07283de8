"""The model-backend stage: the `ModelBackend` Protocol every server API implements, the values
it returns and the errors it raises (all below `ModelError`, so a failure fails closed)."""

from __future__ import annotations

from typing import Any, Protocol

from reviewer.errors import ModelError
from reviewer.models import Frozen

# An answer is a few KB of JSON; anything near this is a runaway model or a hostile server.
# Large enough that an answer of 10,000 findings is still read, then capped (findings.py).
MAX_ANSWER_BYTES = 4_000_000


class ServerInfo(Frozen):
    """What preflight learned about the server and the model."""

    version: str | None = None
    model: str
    digest: str | None = None  # the model's content digest, when the server reports it
    context_length: int | None = None  # the model's maximum context, when reported


class ModelReply(Frozen):
    """One answer and what it cost."""

    content: str
    prompt_tokens: int = 0  # as the server reports them (Ollama may count only uncached ones)
    completion_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens the server reused from its cache, when reported
    finish_reason: str | None = None
    duration_s: float = 0.0


class ModelBackend(Protocol):
    """One model server API. Implementations: `OllamaBackend`, `OpenAICompatibleBackend`."""

    @property
    def name(self) -> str:
        """The backend's name in the findings document: "ollama" or "openai"."""
        ...

    def preflight(self) -> ServerInfo:
        """Check the server answers and the model exists (and matches its digest)."""
        ...

    def request_body(self, system: str, user: str, *, schema: dict[str, Any]) -> bytes:
        """The one request for the system prompt, the user message and the JSON Schema the
        answer is decoded to, as the exact bytes `chat` posts (model, messages, schema,
        options...). Built here only: --show-prompts writes these bytes."""
        ...

    def chat(self, body: bytes, *, estimated_prompt_tokens: int) -> ModelReply:
        """Send one request built by `request_body` and return the whole answer. Raises a
        `ModelError` subclass."""
        ...

    def generation_options(self) -> dict[str, Any]:
        """The options sent with every request (part of the response-cache key)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class TransientModelError(ModelError):
    """A failure worth retrying: connection refused or reset, 5xx, 503 queue full, a stream
    that broke off. Carries an optional server-requested delay (Retry-After)."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        kind: str = "unreachable",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, hint, kind=kind)
        self.retry_after = retry_after


class ChunkFailedError(ModelError):
    """This chunk cannot be reviewed (its prompt was truncated or is too long), but the server
    works: the review goes on with the next chunk."""
