"""Backend test fixtures: the shared fakes live in tests/model_fakes.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REVIEWER_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))


@pytest.fixture(scope="session")
def _server_instance() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def server(_server_instance: HTTPServer) -> Iterator[HTTPServer]:
    """A threaded fake model server on 127.0.0.1 (threaded so overlapping requests could
    happen, and be seen, if the client allowed them), cleared after each test."""
    yield _server_instance
    _server_instance.clear()
