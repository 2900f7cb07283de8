"""Model backends: the server APIs the review loop can send chunks to."""

from __future__ import annotations

from reviewer.backends.interface import ModelBackend
from reviewer.backends.retry import RetryPolicy, base_delay_from_env
from reviewer.errors import UsageError
from reviewer.settings.config import Backend
from reviewer.settings.slices import ModelSettings


def check_backend_settings(settings: ModelSettings) -> None:
    """Settings that can never work with the chosen backend: refused before any request."""
    if settings.backend is Backend.OLLAMA and settings.concurrency > 1:
        raise UsageError(
            f"--concurrency {settings.concurrency} is not allowed with the Ollama backend",
            "Ollama reviews one request at a time; a second request would only queue and "
            "starve the server of memory. Use --concurrency 1, or --backend openai for a "
            "batching server such as vLLM",
        )
    if settings.backend is Backend.OLLAMA or settings.concurrency == 1:
        from reviewer.backends.lock import lock_dir

        lock_dir()  # a lock directory that is not private is refused before any request
    if settings.backend is Backend.OPENAI and settings.model_digest:
        raise UsageError(
            "--model-digest / OLLAMA_MODEL_DIGEST needs the Ollama backend",
            "OpenAI-compatible servers do not report model digests; unset it",
        )


def make_backend(settings: ModelSettings) -> ModelBackend:
    """The backend the settings ask for."""
    check_backend_settings(settings)
    policy = RetryPolicy(retries=settings.retries, base_delay=base_delay_from_env())
    if settings.backend is Backend.OPENAI:
        from reviewer.backends.openai import OpenAICompatibleBackend

        return OpenAICompatibleBackend(settings, policy)
    from reviewer.backends.ollama import OllamaBackend

    return OllamaBackend(settings, policy)
