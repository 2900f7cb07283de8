"""Where the per-server lock lives and how long a run waits for it: a directory only this user
can write (a path an attacker on a shared runner planted is never used), a lock file that is a
planted symlink is refused, and waiting for another process's lock ends with a clear error
that names the lock and its holder, through the real CLI too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reviewer.backends.lock import lock_dir, lock_path, lock_timeout, server_lock
from reviewer.errors import ConfigError, ModelError
from tests.model_fakes import (
    APP_DIFF,
    answer,
    requests_to,
    serve_ollama_chat,
    serve_ollama_preflight,
)

OTHER_UID = 65534  # nobody


@pytest.fixture
def shared_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sticky, world-writable temp dir like /tmp, with the lock's environment unset."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    monkeypatch.delenv("REVIEWER_LOCK_DIR", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return shared


def test_default_is_a_private_dir_in_the_temp_dir(shared_tmp: Path) -> None:
    found = lock_dir()
    assert found == shared_tmp / f"reviewer-{os.geteuid()}"
    assert found.stat().st_mode & 0o777 == 0o700
    with server_lock("http://127.0.0.1:9", timeout=5):
        assert lock_path("http://127.0.0.1:9").parent == found
        assert lock_path("http://127.0.0.1:9").is_file()


def plant(kind: str, where: Path, tmp_path: Path) -> Path:
    """What an attacker pre-creates at the predictable name; returns their directory."""
    theirs = tmp_path / "attacker"
    theirs.mkdir(mode=0o777)
    if kind == "symlink":
        where.symlink_to(theirs)
    elif kind == "world-writable":
        where.mkdir()
        where.chmod(0o777)
    elif kind == "other owner":
        if os.geteuid() != 0:
            pytest.skip("needs root to create a directory owned by another user")
        where.mkdir(mode=0o700)
        os.chown(where, OTHER_UID, -1)
    else:
        where.write_text("not a directory\n")
    return theirs


@pytest.mark.parametrize("kind", ["symlink", "world-writable", "other owner", "file"])
def test_a_planted_temp_dir_is_never_used(shared_tmp: Path, tmp_path: Path, kind: str) -> None:
    predictable = shared_tmp / f"reviewer-{os.geteuid()}"
    theirs = plant(kind, predictable, tmp_path)
    found = lock_dir()
    assert found == tmp_path / "cache" / "reviewer" / "locks"
    with server_lock("http://127.0.0.1:9", timeout=5):
        pass
    assert list(theirs.iterdir()) == []
    if predictable.is_dir() and not predictable.is_symlink():
        assert list(predictable.iterdir()) == []


def test_xdg_runtime_dir_is_used_when_private(
    shared_tmp: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert lock_dir() == runtime
    runtime.chmod(0o777)  # not private any more: the next candidate is used
    assert lock_dir() == shared_tmp / f"reviewer-{os.geteuid()}"


@pytest.mark.parametrize(
    ("kind", "why"),
    [
        ("symlink", "symbolic link"),
        ("world-writable", "group or others can write"),
        ("other owner", f"owned by uid {OTHER_UID}"),
        ("file", "not a directory"),
    ],
)
def test_an_explicit_lock_dir_that_is_not_private_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, why: str
) -> None:
    target = tmp_path / "locks"
    plant(kind, target, tmp_path)
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(target))
    with pytest.raises(ConfigError, match=why) as info:
        lock_dir()
    assert info.value.hint is not None and "mkdir -m 700" in info.value.hint


def test_a_planted_symlink_at_the_lock_name_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    url = "http://127.0.0.1:9"
    lock_path(url).symlink_to(victim)  # REVIEWER_LOCK_DIR is tmp_path (conftest)
    with pytest.raises(ModelError, match="is a symbolic link"), server_lock(url, timeout=1):
        pass
    assert victim.read_text() == "precious\n"


def test_default_wait_is_three_request_timeouts() -> None:
    assert lock_timeout(None, 600) == 1800
    assert lock_timeout(None, 20) == 60
    assert lock_timeout(5, 20) == 5


def hold_lock(server_url: str, lock_dir: Path) -> subprocess.Popen[str]:
    """Another process that takes the lock of `server_url` and keeps it (until killed)."""
    child = textwrap.dedent(
        f"""
        import time
        from reviewer.backends.lock import server_lock
        with server_lock({server_url!r}):
            print("got", flush=True)
            time.sleep(120)
        """
    )
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, text=True,
        env={**env, "REVIEWER_LOCK_DIR": str(lock_dir)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "got"
    return proc


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    url = "http://127.0.0.1:9"
    proc = hold_lock(url, tmp_path)
    yield url, proc
    proc.kill()
    proc.wait()


def test_waiting_for_another_process_is_bounded_and_names_it(
    holder: tuple[str, subprocess.Popen[str]]
) -> None:
    url, proc = holder
    started = time.monotonic()
    with pytest.raises(ModelError) as info, server_lock(url, timeout=0.5):
        pass
    assert 0.5 <= time.monotonic() - started < 10
    assert info.value.kind == "lock_timeout"
    assert str(lock_path(url)) in info.value.message
    assert f"held by process {proc.pid}" in info.value.message
    assert info.value.hint is not None and "--lock-timeout" in info.value.hint


def test_a_run_that_cannot_get_its_turn_fails_closed(
    server: HTTPServer, tmp_path: Path
) -> None:
    url = server.url_for("/").rstrip("/")
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env |= {"REVIEWER_LOCK_DIR": str(tmp_path), "CI": "true", "REVIEWER_LOCK_TIMEOUT": "1"}
    other = hold_lock(url, tmp_path)
    try:
        diff = tmp_path / "pr.diff"
        diff.write_text(APP_DIFF)
        out = tmp_path / "findings.json"
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "run", "--diff-file", str(diff),
             "--ollama-url", url, "--no-cache", "--output", str(out)],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        other.kill()
        other.wait()
    assert proc.returncode == 3, proc.stderr
    error = next(ln for ln in proc.stderr.splitlines() if ln.startswith("reviewer: error"))
    assert "waited 1 s for the lock on the model server" in error
    assert f"held by process {other.pid}" in error
    doc = json.loads(out.read_text())
    assert doc["status"] == "failed"
    assert doc["errors"][0]["kind"] == "lock_timeout"
    assert requests_to(server, "/api/chat") == []  # it never jumped the queue


def test_cli_refuses_a_lock_dir_that_is_not_private(server: HTTPServer, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    diff = tmp_path / "pr.diff"
    diff.write_text(APP_DIFF)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--diff-file", str(diff),
         "--ollama-url", server.url_for("/").rstrip("/"), "--no-cache", "--format", "json"],
        env={**env, "REVIEWER_LOCK_DIR": str(shared)},
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "cannot hold the model-server lock: group or others can write" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert server.log == []
