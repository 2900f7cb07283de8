"""Fixtures shared by the tests that run reviewer against a fake model server: the server
itself and the minimal environment a `reviewer` subprocess gets. A directory's own conftest or
a test module may still define its own (tests/backends and tests/post do)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    """A threaded fake model server on 127.0.0.1, for one test."""
    s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    s.start()
    yield s
    s.clear()
    s.stop()


@pytest.fixture
def servers() -> Iterator[Callable[[int], list[HTTPServer]]]:
    """Start n more threaded fake model servers on 127.0.0.1 (a pool), all stopped after."""
    started: list[HTTPServer] = []

    def start(n: int) -> list[HTTPServer]:
        for _ in range(n):
            s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
            s.start()
            started.append(s)
        return started[-n:]

    yield start
    for s in started:
        s.clear()
        s.stop()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment for a `reviewer` subprocess: no credentials, fast retries, a private
    lock directory and cache, plain CI progress lines."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {
        **keep,
        "REVIEWER_RETRY_BASE_DELAY": "0.001",
        "REVIEWER_LOCK_DIR": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CI": "true",
    }
