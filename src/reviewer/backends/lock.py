"""One request in flight per model server: an in-process lock plus an OS file lock keyed by the
server URL, so parallel CI jobs on one runner that share one model server take turns.

The lock is taken around each request, not the whole run, so two runs interleave chunk by
chunk. The lock files live in a directory only this user can write (on a shared runner another
user could otherwise pre-create or symlink a predictable path in /tmp), and waiting for the lock
is bounded (`--lock-timeout`, by default three request timeouts): past it the run fails closed
and names the lock and the process holding it."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from reviewer.errors import ConfigError, ModelError
from reviewer.settings.paths import default_cache_dir

LOCK_DIR_ENV = "REVIEWER_LOCK_DIR"
# The default wait, in request timeouts: the holder keeps the lock for at most one request.
LOCK_TIMEOUT_REQUESTS = 3
_POLL_START, _POLL_MAX = 0.01, 0.5

_registry_guard = threading.Lock()
_thread_locks: dict[str, threading.Lock] = {}


def private_dir_problem(path: Path) -> str | None:
    """Why `path` is not a directory only this user can write, or None when it is: it must
    be a real directory (not a symlink), owned by us, not writable by group or others."""
    try:
        st = os.lstat(path)
    except OSError as e:
        return e.strerror or type(e).__name__
    if stat.S_ISLNK(st.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a directory"
    if st.st_uid != os.geteuid():
        return f"it is owned by uid {st.st_uid}, not by this user ({os.geteuid()})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"group or others can write to it (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def _made_private(path: Path) -> Path | None:
    """`path`, created 0700 if missing, when it is private (see private_dir_problem)."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(FileExistsError, OSError):
        os.mkdir(path, 0o700)
    return path if private_dir_problem(path) is None else None


def lock_dir() -> Path:
    """$REVIEWER_LOCK_DIR (which must be private), else $XDG_RUNTIME_DIR, else
    `<temp dir>/reviewer-<uid>`, else `<cache dir>/locks`: the first that is private."""
    explicit = os.environ.get(LOCK_DIR_ENV)
    if explicit:
        problem = private_dir_problem(Path(explicit))
        if problem is not None:
            raise ConfigError(
                f"{LOCK_DIR_ENV}={explicit} cannot hold the model-server lock: {problem}",
                hint="use a directory only you can write (mkdir -m 700), or unset it",
            )
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and private_dir_problem(Path(runtime)) is None:
        return Path(runtime)
    for candidate in (
        Path(tempfile.gettempdir()) / f"reviewer-{os.geteuid()}",
        default_cache_dir() / "locks",
    ):
        found = _made_private(candidate)
        if found is not None:
            return found
    raise ConfigError(
        "found no directory only this user can write for the model-server lock",
        hint=f"set {LOCK_DIR_ENV} to a directory of mode 700 that you own",
    )


def lock_key(server_url: str) -> str:
    """A file-name-safe key for a server URL (normalised so `host/` and `host` agree)."""
    normal = server_url.strip().rstrip("/").lower()
    return hashlib.sha256(normal.encode()).hexdigest()[:24]


def lock_path(server_url: str) -> Path:
    return lock_dir() / f"reviewer-model-{lock_key(server_url)}.lock"


def lock_timeout(explicit: float | None, request_timeout: float) -> float:
    """--lock-timeout, else three request timeouts (30 minutes with the default --timeout)."""
    if explicit is not None:
        return explicit
    return LOCK_TIMEOUT_REQUESTS * request_timeout


def _thread_lock(key: str) -> threading.Lock:
    with _registry_guard:
        return _thread_locks.setdefault(key, threading.Lock())


def _open_lock_file(path: Path) -> int:
    try:
        # O_NOFOLLOW: a symlink planted at the lock's name is refused, never followed.
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        why = "it is a symbolic link" if e.errno == errno.ELOOP else e.strerror or str(e)
        raise ModelError(
            f"cannot open the model-server lock {path}: {why}", kind="lock_error"
        ) from e


def _holder(fd: int) -> str:
    """Who holds the lock, as its holder wrote it ("pid N"), for the timeout message."""
    with contextlib.suppress(OSError):
        text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
        if text.isdigit():
            return f"process {text}"
    return "another process"


def _flock_within(fd: int, deadline: float) -> bool:
    """Take the exclusive lock on `fd`, polling until `deadline` (time.monotonic())."""
    pause = _POLL_START
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))  # a signal interrupts this wait at once
        pause = min(pause * 2, _POLL_MAX)


def _lock_timeout_error(server_url: str, path: Path, timeout: float, holder: str) -> ModelError:
    from reviewer.backends.http import display_url

    return ModelError(
        f"waited {timeout:g} s for the lock on the model server {display_url(server_url)} "
        f"({path}), held by {holder}",
        f"another reviewer run is using this server; wait for {holder} to finish, or raise "
        "--lock-timeout (REVIEWER_LOCK_TIMEOUT)",
        kind="lock_timeout",
    )


@contextlib.contextmanager
def server_lock(server_url: str, timeout: float | None = None) -> Iterator[None]:
    """Hold the server's lock, first within this process, then across processes; wait at
    most `timeout` seconds for it (None: without limit)."""
    deadline = float("inf") if timeout is None else time.monotonic() + timeout
    path = lock_path(server_url)
    guard = _thread_lock(lock_key(server_url))
    left = None if timeout is None else max(0.0, deadline - time.monotonic())
    if not guard.acquire(timeout=-1 if left is None else left):
        raise _lock_timeout_error(server_url, path, timeout or 0.0, "another thread of this run")
    try:
        fd = _open_lock_file(path)
        try:
            if not _flock_within(fd, deadline):
                raise _lock_timeout_error(server_url, path, timeout or 0.0, _holder(fd))
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        guard.release()


@contextlib.contextmanager
def request_slot(
    server_url: str, exclusive: bool, timeout: float | None = None
) -> Iterator[None]:
    """The server lock when requests must be one at a time; nothing when the server batches
    (`--concurrency N` for an OpenAI-compatible server) and the review loop bounds them."""
    if not exclusive:
        yield
        return
    with server_lock(server_url, timeout):
        yield
