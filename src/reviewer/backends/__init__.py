"""Model backends: the server APIs the review loop can send chunks to."""

from __future__ import annotations

from reviewer.backends.digest import check_digest_setting
from reviewer.backends.interface import ModelBackend
from reviewer.backends.retry import RetryPolicy, base_delay_from_env
from reviewer.errors import UsageError
from reviewer.security import check_model_url
from reviewer.settings.config import Backend
from reviewer.settings.slices import ModelSettings


def check_model_arguments(settings: ModelSettings) -> None:
    """The model flags judged on their own, before git, the disk or the network: every
    server URL's form and the egress policy, no server twice, and a pinned digest's form and
    backend. A malformed value is a usage error (exit 2) whether or not a server is
    listening."""
    for url in settings.server_urls:
        check_model_url(url, allow_remote=settings.allow_remote_model)
    check_distinct_servers(settings.server_urls)
    _check_digest(settings)


def check_distinct_servers(urls: tuple[str, ...]) -> None:
    """A server listed twice would get two requests at once (and count twice in the pool)."""
    if len(urls) < 2:
        return  # nothing to compare, and no network module (httpx, rich) loaded for a dry run
    from reviewer.backends.http import display_url
    from reviewer.backends.lock import lock_key

    seen: dict[str, str] = {}
    for url in urls:
        key = lock_key(url)  # the one normal form of a server URL (case, trailing slash)
        if key in seen:
            raise UsageError(
                f"the model server {display_url(seen[key])} is given twice "
                f"(again as {display_url(url)})",
                "list each server once in --ollama-url / --base-url (or the variable)",
            )
        seen[key] = url


def _check_digest(settings: ModelSettings) -> None:
    if settings.model_digest is None:
        return
    if settings.backend is Backend.OPENAI:
        raise UsageError(
            "--model-digest / OLLAMA_MODEL_DIGEST needs the Ollama backend",
            "OpenAI-compatible servers do not report model digests; unset it",
        )
    check_digest_setting(settings.model_digest)


def check_backend_settings(settings: ModelSettings) -> None:
    """Settings that can never work with the chosen backend: refused before any request."""
    _check_digest(settings)
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


def make_backend(settings: ModelSettings) -> ModelBackend:
    """The backend the settings ask for, once they are checked."""
    check_backend_settings(settings)
    return build_backend(settings)


def build_backend(settings: ModelSettings) -> ModelBackend:
    """The backend object alone: no check, no lock and no connection yet (the dry run uses it
    to build the requests it would send)."""
    policy = RetryPolicy(retries=settings.retries, base_delay=base_delay_from_env())
    if settings.backend is Backend.OPENAI:
        from reviewer.backends.openai import OpenAICompatibleBackend

        return OpenAICompatibleBackend(settings, policy)
    from reviewer.backends.ollama import OllamaBackend

    return OllamaBackend(settings, policy)
