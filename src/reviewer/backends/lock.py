"""One request in flight per model server: an in-process lock plus an OS file lock keyed by the
server URL, so parallel CI jobs on one runner that share one model server take turns.

The lock is taken around each request, not the whole run, so two runs interleave chunk by
chunk. Waiting for it has no time limit: the other holder is bounded by its own timeouts."""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_DIR_ENV = "REVIEWER_LOCK_DIR"

_registry_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


def lock_dir() -> Path:
    """$REVIEWER_LOCK_DIR, else $XDG_RUNTIME_DIR (per user, on tmpfs), else the temp dir."""
    for var in (LOCK_DIR_ENV, "XDG_RUNTIME_DIR"):
        value = os.environ.get(var)
        if value and os.path.isdir(value) and os.access(value, os.W_OK):
            return Path(value)
    return Path(tempfile.gettempdir())


def lock_key(server_url: str) -> str:
    """A file-name-safe key for a server URL (normalised so `host/` and `host` agree)."""
    normal = server_url.strip().rstrip("/").lower()
    return hashlib.sha256(normal.encode()).hexdigest()[:24]


def lock_path(server_url: str) -> Path:
    return lock_dir() / f"reviewer-model-{lock_key(server_url)}.lock"


def _thread_lock(key: str) -> threading.Lock:
    with _registry_guard:
        return _thread_locks.setdefault(key, threading.Lock())


@contextmanager
def server_lock(server_url: str) -> Iterator[None]:
    """Hold the server's lock: first within this process, then across processes."""
    key = lock_key(server_url)
    with _thread_lock(key):
        path = lock_path(server_url)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


@contextmanager
def request_slot(server_url: str, exclusive: bool) -> Iterator[None]:
    """The server lock when requests must be one at a time; nothing when the server batches
    (`--concurrency N` for an OpenAI-compatible server) and the review loop bounds them."""
    if not exclusive:
        yield
        return
    with server_lock(server_url):
        yield
