"""The one retry primitive: bounded attempts, exponential backoff, a server's Retry-After
honoured, and an optional budget on the total time spent waiting. Also the one Retry-After
parser (RFC 9110 section 10.2.3). Callers say which failures are worth another attempt and
how long the server asked them to wait; everything else fails at once."""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=Exception)

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


def parse_retry_after(
    value: str | None, *, now: float | None = None, cap: float = math.inf
) -> float | None:
    """Seconds to wait from a Retry-After value: delay-seconds (digits only) or an HTTP-date
    in any of the three forms RFC 9110 has a recipient accept, counted from `now` (default:
    time.time()). None when absent or not one of those (a negative number, "1.5", junk); a date
    already past is 0; never more than `cap`."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return min(float(text), cap)  # float("9" * 400) is inf, not an error
    try:
        when = parsedate_to_datetime(text)
    except (ValueError, TypeError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:  # asctime has no zone: HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    left = when.timestamp() - (time.time() if now is None else now)
    return min(max(0.0, left), cap)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry. With `jitter` (the backends), each backoff step is
    half fixed, half random ("equal jitter") so that parallel runners spread out, and a
    server's Retry-After is a floor under it; without (GitHub, whose rate limits say exactly
    when to come back), steps are exact and a server's Retry-After is the wait. No single wait
    exceeds `max_delay`."""

    retries: int  # attempts after the first one: the caller's setting, no default here
    base_delay: float = DEFAULT_BASE_DELAY
    max_delay: float = MAX_DELAY
    jitter: bool = True

    def backoff(self, attempt: int) -> float:
        """The step before retry number `attempt` (0-based), without a server's say."""
        step = float(min(self.max_delay, self.base_delay * (2**attempt)))
        if not self.jitter:
            return step
        return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not crypto

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """The wait before retry number `attempt`, given the server's Retry-After if any."""
        wait = self.backoff(attempt)
        if retry_after is not None:
            wait = max(wait, retry_after) if self.jitter else retry_after
        return float(min(wait, self.max_delay))


class OverBudget(Exception):
    """The next wait would take the total time spent waiting past the budget."""

    def __init__(self, wait: float, limit: float) -> None:
        super().__init__(f"waiting {wait:.0f} s more would exceed the limit of {limit:.0f} s")
        self.wait = wait
        self.limit = limit


class WaitBudget:
    """Total seconds of waiting allowed across every call that shares this budget (one
    `reviewer post` makes many requests, and --max-wait bounds them all together)."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.spent = 0.0

    def spend(self, seconds: float) -> None:
        if self.spent + seconds > self.limit:
            raise OverBudget(seconds, self.limit)
        self.spent += seconds


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    *,
    retry_on: type[E],
    server_wait: Callable[[E], float | None] | None = None,
    budget: WaitBudget | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`; on a `retry_on` failure wait and call again, up to `policy.retries` times,
    then re-raise the last failure. No wait follows the last attempt. OverBudget (raised from
    the failure) when a wait would exceed `budget`."""
    attempt = 0
    while True:
        try:
            return fn()
        except retry_on as e:
            if attempt >= policy.retries:
                raise
            wait = policy.delay(attempt, server_wait(e) if server_wait else None)
            if budget is not None:
                try:
                    budget.spend(wait)
                except OverBudget as over:
                    raise over from e
            sleep(wait)
            attempt += 1
