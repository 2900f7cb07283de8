"""An OpenAI-compatible server's URL as its documentation writes it (ending in /v1) means its
root: one trailing /v1 is dropped, nothing else about the URL changes."""

from __future__ import annotations

import pytest

from reviewer.settings.config import Backend, openai_root
from reviewer.settings.slices import ModelSettings


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/"),  # the client drops the slash
        ("https://gpu.internal/vllm/v1", "https://gpu.internal/vllm"),  # behind a path prefix
        ("http://127.0.0.1:8000/v1/v1", "http://127.0.0.1:8000/v1"),  # one only
        ("http://127.0.0.1:8000/v10", "http://127.0.0.1:8000/v10"),
        ("http://127.0.0.1:8000/api/v1x", "http://127.0.0.1:8000/api/v1x"),
        ("http://[::1", "http://[::1"),  # left for the URL check to refuse
    ],
)
def test_one_trailing_v1_is_dropped(given: str, root: str) -> None:
    assert openai_root(given) == root


def test_only_the_openai_backend_drops_it() -> None:
    openai = ModelSettings(backend=Backend.OPENAI, base_url="http://127.0.0.1:8080/v1")
    assert openai.base_url == "http://127.0.0.1:8080"
    # Ollama's native API is not under /v1: its URL is used as given.
    ollama = ModelSettings(backend=Backend.OLLAMA, base_url="http://localhost:11434/v1")
    assert ollama.base_url == "http://localhost:11434/v1"
