"""Retry policy bounds and the per-server lock (in-process and across processes)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from reviewer.backends.interface import TransientModelError
from reviewer.backends.lock import lock_key, lock_path, server_lock
from reviewer.backends.retry import RetryPolicy, base_delay_from_env, call_with_retry
from reviewer.errors import ModelError


def test_retries_are_bounded_and_back_off_exponentially() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def fail() -> int:
        calls.append(1)
        raise TransientModelError("down")

    with pytest.raises(TransientModelError):
        call_with_retry(fail, RetryPolicy(retries=3, base_delay=1.0), sleep=sleeps.append)
    assert len(calls) == 4
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        step = 2**attempt
        assert step / 2 <= slept <= step  # equal jitter: half fixed, half random


def test_non_transient_errors_are_not_retried() -> None:
    calls: list[int] = []

    def fail() -> int:
        calls.append(1)
        raise ModelError("4xx")

    with pytest.raises(ModelError):
        call_with_retry(fail, RetryPolicy(retries=5), sleep=lambda _: None)
    assert calls == [1]


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(retries=3, base_delay=0.01, max_delay=5.0)
    assert policy.delay(0, retry_after=3.0) == 3.0
    assert policy.delay(0, retry_after=100.0) == 5.0


def test_success_after_failures_returns_the_value() -> None:
    outcomes = iter([TransientModelError("a"), TransientModelError("b"), 42])

    def step() -> int:
        value = next(outcomes)
        if isinstance(value, Exception):
            raise value
        return value

    assert call_with_retry(step, RetryPolicy(retries=2), sleep=lambda _: None) == 42


@pytest.mark.parametrize(("raw", "expected"), [("0.5", 0.5), ("junk", 1.0), ("-1", 1.0)])
def test_base_delay_from_env(monkeypatch: pytest.MonkeyPatch, raw: str, expected: float) -> None:
    monkeypatch.setenv("REVIEWER_RETRY_BASE_DELAY", raw)
    assert base_delay_from_env() == expected


def test_lock_key_is_per_server() -> None:
    assert lock_key("http://localhost:11434/") == lock_key("http://LOCALHOST:11434")
    assert lock_key("http://localhost:11434") != lock_key("http://localhost:11435")


def test_in_process_lock_serialises_threads() -> None:
    inside = 0
    peak = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, peak
        with server_lock("http://127.0.0.1:1"):
            with guard:
                inside += 1
                peak = max(peak, inside)
            time.sleep(0.01)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1


def test_lock_is_held_across_processes(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9"
    assert lock_path(url).parent == tmp_path  # REVIEWER_LOCK_DIR from conftest
    child = textwrap.dedent(
        f"""
        import sys
        from reviewer.backends.lock import server_lock
        with server_lock({url!r}):
            print("got", flush=True)
        """
    )
    with server_lock(url):
        proc = subprocess.Popen(
            [sys.executable, "-c", child], stdout=subprocess.PIPE, text=True
        )
        # While we hold the lock the child cannot get it: it is still waiting after a while.
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)
    out, _ = proc.communicate(timeout=20)
    assert out.strip() == "got"
