"""The model backends' use of the one retry primitive (net.retry): only `TransientModelError`
is retried (connection errors, 5xx, 503 queue full, a broken stream), waiting at least what the
server's Retry-After asked; everything else, 4xx included, fails at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from reviewer.backends.interface import TransientModelError
from reviewer.net import retry
from reviewer.net.retry import RetryPolicy, base_delay_from_env

__all__ = ["RetryPolicy", "base_delay_from_env", "call_with_retry"]

T = TypeVar("T")


def _server_wait(error: TransientModelError) -> float | None:
    return error.retry_after


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`, retrying transient failures up to `policy.retries` times."""
    return retry.call_with_retry(
        fn, policy, retry_on=TransientModelError, server_wait=_server_wait, sleep=sleep
    )
