"""A small GitHub REST client: token auth, `Link` pagination, bounded waits on rate limits,
backoff on 5xx and transport faults. Transport and HTTP errors become PostError here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from reviewer import __version__
from reviewer.errors import PostError

MAX_PAGES = 200  # 100 per page: far more than GitHub's 3,000-file cap on a pull request


class GitHubForbidden(PostError):
    """403 that is not a rate limit: usually a read-only token (a pull request from a fork)."""


class GitHubUnprocessable(PostError):
    """422: GitHub validated the request and refused it (a review comment off the diff)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying. `max_wait_s` bounds the total time spent waiting."""

    max_wait_s: float = 60.0
    max_attempts: int = 5
    backoff_s: float = 1.0


def _rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or None when this is not a rate-limit answer."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            return 60.0
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        return max(0.0, float(reset) - now) if reset.isdigit() else 60.0
    return None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    return str(data.get("message", ""))[:200] if isinstance(data, dict) else ""


def next_link(header: str | None) -> str | None:
    """The rel="next" URL of a `Link` header."""
    for part in (header or "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None


class GitHubClient:
    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._waited = 0.0
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": f"reviewer/{__version__}",
            },
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str) -> Any:
        return self._request("GET", self.api_url + path).json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._request("POST", self.api_url + path, body).json()

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self._request("PATCH", self.api_url + path, body).json()

    def paginate(self, path: str, per_page: int = 100) -> list[Any]:
        """Every item of a list endpoint, following `Link: <...>; rel="next"`."""
        items: list[Any] = []
        url: str | None = f"{self.api_url}{path}?per_page={per_page}"
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            self._check_same_origin(url)
            response = self._request("GET", url)
            page = response.json()
            if not isinstance(page, list):
                raise PostError(f"GitHub answered {path} with something other than a list")
            items.extend(page)
            url = next_link(response.headers.get("link"))
        raise PostError(f"GitHub kept paginating {path} past {MAX_PAGES} pages")

    def _check_same_origin(self, url: str) -> None:
        # The token goes with every request: never follow a link to another host.
        want, got = urlsplit(self.api_url), urlsplit(url)
        if (want.scheme, want.netloc) != (got.scheme, got.netloc):
            raise PostError(f"GitHub's pagination pointed to another host: {got.netloc}")

    def _request(self, method: str, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
        last = "no attempt made"
        for attempt in range(self.policy.max_attempts):
            outcome = self._attempt(method, url, body, attempt)
            if isinstance(outcome, httpx.Response):
                return outcome
            wait, last = outcome
            if attempt + 1 < self.policy.max_attempts:  # no pointless wait after the last try
                self._wait(wait, last)
        raise PostError(last, hint=f"gave up after {self.policy.max_attempts} attempts")

    def _attempt(
        self, method: str, url: str, body: dict[str, Any] | None, attempt: int
    ) -> httpx.Response | tuple[float, str]:
        """One request: the response, or (seconds to wait, why) when it is worth a retry."""
        backoff = self.policy.backoff_s * 2**attempt
        try:
            response = self._http.request(method, url, json=body)
        except httpx.TransportError as e:
            return backoff, f"could not reach GitHub: {type(e).__name__}: {e}"
        wait = _rate_limit_wait(response, time.time())
        if wait is not None:
            return wait, f"rate limited by GitHub ({response.status_code} {_message(response)})"
        if response.status_code >= 500:
            return (
                backoff,
                f"GitHub answered {response.status_code} to {method} {urlsplit(url).path}",
            )
        _raise_for_status(response, method, url)
        return response

    def _wait(self, seconds: float, why: str) -> None:
        """Wait as told, within the total budget; past it, give up with the reason."""
        if self._waited + seconds > self.policy.max_wait_s:
            raise PostError(
                f"{why}; waiting {seconds:.0f} s more would exceed the limit of "
                f"{self.policy.max_wait_s:.0f} s",
                hint="re-run the job later, or raise --max-wait",
            )
        self._waited += seconds
        self._sleep(seconds)


def _raise_for_status(response: httpx.Response, method: str, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    where = f"{method} {urlsplit(url).path}"
    detail = _message(response)
    if status == 401:
        raise PostError(
            f"GitHub refused the token (401 {detail})",
            hint="check that GITHUB_TOKEN is set to a valid token for this repository",
        )
    if status == 403:
        raise GitHubForbidden(
            f"GitHub refused {where} (403 {detail})",
            hint="the token needs `pull-requests: write` and `issues: write`; a pull request "
            "from a fork gets a read-only token (use --annotations-fallback there)",
        )
    if status == 404:
        raise PostError(
            f"GitHub found nothing at {where} (404)",
            hint="check --repo/--pr (or GITHUB_REPOSITORY and the event) and the token's access",
        )
    if status == 422:
        raise GitHubUnprocessable(f"GitHub refused {where} (422 {detail})")
    raise PostError(f"GitHub answered {status} to {where}: {detail}")
