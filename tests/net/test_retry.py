"""The one retry primitive and the one Retry-After parser, on their own and through both of
their callers against real local servers: a model backend and the GitHub client."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from email.utils import formatdate

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from reviewer.backends.http import make_client, post_checked
from reviewer.backends.interface import TransientModelError
from reviewer.errors import PostError
from reviewer.net.retry import (
    OverBudget,
    RetryPolicy,
    WaitBudget,
    call_with_retry,
    parse_retry_after,
)
from reviewer.post.hosts.github import GitHubClient
from reviewer.post.hosts.rest import DEFAULT_RATE_LIMIT_WAIT
from reviewer.post.hosts.rest import RetryPolicy as GitHubRetryPolicy

NOW = 784_111_777.0  # Sun, 06 Nov 1994 08:49:37 GMT, RFC 9110's example date


# --- Retry-After ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("Sun, 06 Nov 1994 08:50:37 GMT", 60.0),  # IMF-fixdate
        ("Sunday, 06-Nov-94 08:50:37 GMT", 60.0),  # obsolete RFC 850 form
        ("Sun Nov  6 08:50:37 1994", 60.0),  # obsolete asctime form, GMT by definition
        ("Sun, 06 Nov 1994 08:40:00 GMT", 0.0),  # already past
    ],
)
def test_retry_after_reads_seconds_and_every_http_date_form(value: str, seconds: float) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "value", [None, "", "-5", "1.5", "1e3", "soon", "inf", "nan", "\u0661\u0662", "12 s", "0x10"]
)
def test_retry_after_ignores_what_is_neither_form(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_is_capped() -> None:
    assert parse_retry_after("9" * 400, cap=30.0) == 30.0
    assert parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now=NOW, cap=5.0) == 5.0
    assert parse_retry_after("9" * 400) == math.inf  # uncapped: the caller's budget decides


@given(st.text(max_size=60))
def test_retry_after_never_raises_and_stays_in_bounds(value: str) -> None:
    seconds = parse_retry_after(value, now=NOW, cap=100.0)
    assert seconds is None or 0.0 <= seconds <= 100.0


# --- the policy ---------------------------------------------------------------------------------


def test_jittered_steps_double_within_equal_jitter_and_are_capped() -> None:
    policy = RetryPolicy(retries=3, base_delay=1.0, max_delay=5.0)
    for attempt, step in enumerate([1, 2, 4, 5, 5]):
        for _ in range(20):
            assert step / 2 <= policy.delay(attempt) <= step


def test_exact_steps_and_a_named_wait() -> None:
    exact = RetryPolicy(retries=3, base_delay=1.0, max_delay=math.inf, jitter=False)
    assert [exact.delay(a) for a in range(4)] == [1.0, 2.0, 4.0, 8.0]
    assert exact.delay(3, retry_after=0.5) == 0.5  # without jitter the server's wait is the wait
    jittered = RetryPolicy(retries=3, base_delay=4.0, max_delay=30.0)
    assert 2.0 <= jittered.delay(0, retry_after=0.5) <= 4.0  # with jitter, only a floor
    assert jittered.delay(0, retry_after=1e12) == 30.0


# --- the loop -----------------------------------------------------------------------------------


class Flaky(Exception):
    def __init__(self, wait: float | None = None) -> None:
        self.wait = wait


def _failing(
    times: int, value: int = 42, wait: float | None = None
) -> tuple[list[int], Callable[[], int]]:
    calls: list[int] = []

    def fn() -> int:
        calls.append(1)
        if len(calls) <= times:
            raise Flaky(wait)
        return value

    return calls, fn


def test_the_loop_retries_only_what_it_is_told_and_reraises_the_last() -> None:
    slept: list[float] = []
    exact = RetryPolicy(retries=2, base_delay=1.0, jitter=False)
    calls, fn = _failing(5)
    with pytest.raises(Flaky):
        call_with_retry(fn, exact, retry_on=Flaky, sleep=slept.append)
    assert len(calls) == 3 and slept == [1.0, 2.0]  # no wait after the last attempt

    calls, fn = _failing(2, wait=3.0)
    value = call_with_retry(
        fn, exact, retry_on=Flaky, server_wait=lambda e: e.wait, sleep=slept.append
    )
    assert value == 42 and slept[2:] == [3.0, 3.0]

    def other() -> int:
        calls.append(1)
        raise ValueError("not retryable")

    calls.clear()
    with pytest.raises(ValueError, match="not retryable"):
        call_with_retry(other, exact, retry_on=Flaky, sleep=slept.append)
    assert calls == [1]


def test_a_budget_is_shared_across_calls_and_names_the_failure() -> None:
    slept: list[float] = []
    budget = WaitBudget(5.0)
    exact = RetryPolicy(retries=5, base_delay=2.0, jitter=False)
    _, fn = _failing(1)
    call_with_retry(fn, exact, retry_on=Flaky, budget=budget, sleep=slept.append)
    _, fn = _failing(5)
    with pytest.raises(OverBudget) as info:
        call_with_retry(fn, exact, retry_on=Flaky, budget=budget, sleep=slept.append)
    assert slept == [2.0, 2.0] and budget.spent == 4.0  # 4 s more (the second step) would be 8
    assert str(info.value) == "waiting 4 s more would exceed the limit of 5 s"
    assert isinstance(info.value.__cause__, Flaky)


# --- through the callers, against real servers --------------------------------------------------


def test_a_model_server_http_date_retry_after_reaches_the_backend_retry(
    httpserver: HTTPServer,
) -> None:
    later = formatdate(time.time() + 20, usegmt=True)
    httpserver.expect_request("/api/chat").respond_with_json(
        {"error": "busy"}, status=503, headers={"Retry-After": later}
    )
    client = make_client(httpserver.url_for(""), 2.0, 5.0)
    with pytest.raises(TransientModelError) as info, post_checked(
        client, httpserver.url_for(""), "/api/chat", b"{}", 5.0, unreachable_hint="start it"
    ):
        pass
    assert info.value.retry_after is not None and 15.0 <= info.value.retry_after <= 20.0
    client.close()


def test_github_waits_an_http_date_retry_after_then_succeeds(httpserver: HTTPServer) -> None:
    later = formatdate(time.time() + 8, usegmt=True)
    httpserver.expect_ordered_request("/x").respond_with_json(
        {"message": "secondary rate limit"}, status=429, headers={"Retry-After": later}
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    slept: list[float] = []
    client = GitHubClient(httpserver.url_for(""), "t", sleep=slept.append)
    assert client.get("/x") == {"ok": True}
    assert len(slept) == 1 and 3.0 <= slept[0] <= 8.0


@pytest.mark.parametrize("value", ["-30", "junk", "1.5"])
def test_github_reads_a_bad_retry_after_as_its_one_minute_default(
    httpserver: HTTPServer, value: str
) -> None:
    httpserver.expect_request("/x").respond_with_json(
        {"message": "secondary rate limit"}, status=403, headers={"Retry-After": value}
    )
    policy = GitHubRetryPolicy(max_wait_s=DEFAULT_RATE_LIMIT_WAIT - 1)
    client = GitHubClient(httpserver.url_for(""), "t", policy=policy, sleep=lambda s: None)
    with pytest.raises(PostError) as info:
        client.get("/x")
    assert info.value.message.startswith("rate limited by GitHub (403 secondary rate limit)")
    assert "waiting 60 s more would exceed the limit of 59 s" in info.value.message
    assert len(httpserver.log) == 1  # refused before any wait, so no second request


def test_github_budget_spans_every_request_of_the_client(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/x").respond_with_json(
        {"message": "slow down"}, status=429, headers={"Retry-After": "4"}
    )
    slept: list[float] = []
    policy = GitHubRetryPolicy(max_wait_s=10, max_attempts=2)
    client = GitHubClient(httpserver.url_for(""), "t", policy=policy, sleep=slept.append)
    for _ in range(2):  # each request: one wait of 4 s, then out of attempts
        with pytest.raises(PostError) as info:
            client.get("/x")
        assert info.value.hint == "gave up after 2 attempts"
    with pytest.raises(PostError) as info:  # the third request's first wait: 12 s in all
        client.get("/x")
    assert slept == [4.0, 4.0] and "exceed the limit of 10 s" in info.value.message
    assert info.value.hint == "re-run the job later, or raise --max-wait"
