"""Bounded retries with exponential backoff and jitter for transient server failures.

Only `TransientModelError` is retried (connection errors, 5xx, 503 queue full, a broken stream);
everything else, 4xx included, fails at once."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reviewer.backends.interface import TransientModelError

T = TypeVar("T")

DEFAULT_BASE_DELAY = 1.0
MAX_DELAY = 30.0
# Tests (and impatient users) shrink the backoff without touching the retry count.
BASE_DELAY_ENV = "REVIEWER_RETRY_BASE_DELAY"


def base_delay_from_env() -> float:
    """The first backoff step in seconds: $REVIEWER_RETRY_BASE_DELAY, else 1 s."""
    raw = os.environ.get(BASE_DELAY_ENV, "")
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_BASE_DELAY
    return value if 0 <= value <= MAX_DELAY else DEFAULT_BASE_DELAY


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3  # attempts after the first one
    base_delay: float = DEFAULT_BASE_DELAY
    max_delay: float = MAX_DELAY

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Backoff before retry number `attempt` (0-based): half fixed, half random ("equal
        jitter"), so parallel runners spread out but never retry instantly. A server's
        Retry-After wins when it is longer, capped at max_delay."""
        step = min(self.max_delay, self.base_delay * (2**attempt))
        wait = step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not crypto
        if retry_after is not None:
            wait = max(wait, retry_after)
        return float(min(wait, self.max_delay))


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`, retrying transient failures up to `policy.retries` times."""
    attempt = 0
    while True:
        try:
            return fn()
        except TransientModelError as e:
            if attempt >= policy.retries:
                raise
            sleep(policy.delay(attempt, e.retry_after))
            attempt += 1
