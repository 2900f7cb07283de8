"""The one REST client every host module uses: token auth, pagination (`Link: rel="next"`, or
GitLab's `X-Next-Page`), bounded waits on rate limits, backoff on 5xx and transport faults
(both through the one retry primitive, net.retry), and every HTTP or transport error turned
into a PostError with the token scrubbed from its message. Requests go only to the API URL's
origin: no redirect is followed, and proxies and CA certificates come from post.transport, not
from httpx's defaults. What differs between hosts (name, headers, hints, which status means
"refused") is a HostApi, given by the host module."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from reviewer import __version__
from reviewer.errors import PostError
from reviewer.net import retry
from reviewer.post.host import HostForbidden, HostRefused
from reviewer.post.transport import Transport
from reviewer.settings.config import DEFAULT_POST_MAX_WAIT

MAX_PAGES = 200  # 100 per page: far more than any host's cap on a change request's files

# The hosts' advice when they rate-limit without a usable wait: come back in a minute.
DEFAULT_RATE_LIMIT_WAIT = 60.0
# No wait a host asks for counts as more than a day (--max-wait refuses it long before).
MAX_SERVER_WAIT = 86_400.0


class Forbidden(HostForbidden):
    """403 that is not a rate limit: usually a read-only token (a pull request from a fork)."""


class Redirect(PostError):
    """3xx: never followed, since the token would go with the request to wherever it points."""


class Refused(HostRefused):
    """The host validated the request and refused it (GitHub's 422, GitLab's 400: a comment
    off the diff)."""


@dataclass(frozen=True)
class HostApi:
    """What one host's REST API looks like from the client: its name and its word for the
    change request in messages, the headers that carry the token, the statuses that mean
    "validated and refused", the page-size query parameter, and the hints for the answers a
    user can fix."""

    name: str  # "GitHub"
    auth_headers: Callable[[str], dict[str, str]]
    refused: frozenset[int]
    page_size: tuple[str, int] = ("per_page", 100)
    hints: Mapping[int, str] = field(default_factory=dict)  # 401, 403, 404
    url_hint: str = "check --api-url: it must be the REST API's root URL"
    request: str = "pull request"  # how the host's users call a change request


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying. `max_wait_s` bounds the total time spent waiting, across every
    request of the client. Applied by the one retry primitive (net.retry) as `steps`."""

    max_wait_s: float = DEFAULT_POST_MAX_WAIT
    max_attempts: int = 5
    backoff_s: float = 1.0

    @property
    def steps(self) -> retry.RetryPolicy:
        """Exact steps (no jitter, no cap of their own: the budget bounds them), and a wait
        the host names is the wait."""
        return retry.RetryPolicy(
            retries=self.max_attempts - 1,
            base_delay=self.backoff_s,
            max_delay=math.inf,
            jitter=False,
        )


class _TryAgain(Exception):
    """A failure worth another attempt: why, and the wait the host named (None: back off)."""

    def __init__(self, why: str, wait: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.wait = wait


def _named_wait(error: _TryAgain) -> float | None:
    return error.wait


def _header(response: httpx.Response, *names: str) -> str | None:
    for name in names:
        if name in response.headers:
            return str(response.headers[name])
    return None


def rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds the host asks us to wait, or None when this is not a rate-limit answer: a 429
    (GitLab, Gitea, GitHub) or a 403 that says it is one (GitHub), waiting as Retry-After says,
    else until the limit's reset time (GitHub's `X-RateLimit-*`, GitLab's `RateLimit-*`), else a
    minute."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        wait = retry.parse_retry_after(retry_after, now=now, cap=MAX_SERVER_WAIT)
        return DEFAULT_RATE_LIMIT_WAIT if wait is None else wait
    remaining = _header(response, "x-ratelimit-remaining", "ratelimit-remaining")
    if remaining == "0" or response.status_code == 429:
        reset = _header(response, "x-ratelimit-reset", "ratelimit-reset") or ""
        if not (reset.isascii() and reset.isdigit()):
            return DEFAULT_RATE_LIMIT_WAIT
        return min(max(0.0, float(reset) - now), MAX_SERVER_WAIT)
    return None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(data, dict):
        return ""
    # GitHub and Gitea say `message`; GitLab says `message` or `error`.
    return str(data.get("message") or data.get("error") or "")[:200]


def next_link(header: str | None) -> str | None:
    """The rel="next" URL of a `Link` header."""
    for part in (header or "").split(","):
        url, _, params = part.partition(";")
        if 'rel="next"' in params.replace(" ", ""):
            return url.strip().strip("<>")
    return None


def next_page(response: httpx.Response) -> str | None:
    """The next page's URL: the `Link` header's rel="next", else GitLab's `X-Next-Page` (a page
    number, empty on the last page) set on the URL just read."""
    link = next_link(response.headers.get("link"))
    if link is not None:
        return link
    number = response.headers.get("x-next-page", "").strip()
    if not (number.isascii() and number.isdigit()):
        return None
    return str(response.request.url.copy_set_param("page", number))


class RestClient:
    """One token, one API origin, one host's `api`. `transport` (post.transport) is the proxy
    and the TLS verification for that origin; without it, no proxy and the default CA bundle."""

    def __init__(
        self,
        api_url: str,
        token: str,
        api: HostApi,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        transport: Transport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.api = api
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._budget = retry.WaitBudget(self.policy.max_wait_s)
        self._token = token
        route = transport or Transport(proxy=None, verify=True)
        self._http = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            # Not httpx's own reading of the environment: HTTP_PROXY/ALL_PROXY would carry a
            # loopback request (and its token) through a proxy. post.transport decides.
            trust_env=False,
            proxy=route.proxy,
            verify=route.verify,
            headers={"User-Agent": f"reviewer/{__version__}", **api.auth_headers(token)},
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        return _json(self._request("GET", self._url(path, params)), self.api)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return _json(self._request("POST", self._url(path), body), self.api)

    def put(self, path: str, body: dict[str, Any]) -> Any:
        return _json(self._request("PUT", self._url(path), body), self.api)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return _json(self._request("PATCH", self._url(path), body), self.api)

    def post_url(self, url: str, body: dict[str, Any]) -> Any:
        """POST to another endpoint of the API's origin (GitHub's GraphQL beside its REST root)."""
        self._check_same_origin(url, "endpoint")
        return _json(self._request("POST", url, body), self.api)

    def delete(self, path: str) -> Any:
        return _json(self._request("DELETE", self._url(path)), self.api)

    def post_gate(self, path: str, body: dict[str, Any], *, what: str, hint: str) -> Any:
        """POST the verdict (a check run, a commit status). A 403 is a plain PostError here,
        not Forbidden: --annotations-fallback must not hide a missing gate."""
        try:
            return self.post(path, body)
        except Forbidden as e:
            raise PostError(f"{self.api.name} refused to {what}: {e.message}", hint=hint) from None

    def text(self, path: str) -> str:
        """A plain-text resource (a pull request's .diff)."""
        return self._request("GET", self._url(path)).text

    def paginate(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        per_page: int | None = None,
    ) -> list[Any]:
        """Every item of a list endpoint, page after page (see next_page)."""
        name, size = self.api.page_size
        items: list[Any] = []
        url: str | None = self._url(path, {name: per_page or size, **(params or {})})
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            self._check_same_origin(url, "pagination")
            response = self._request("GET", url)
            page = _json(response, self.api)
            if not isinstance(page, list):
                raise PostError(f"{self.api.name} answered {path} with something other than a list")
            items.extend(page)
            url = next_page(response)
        raise PostError(f"{self.api.name} kept paginating {path} past {MAX_PAGES} pages")

    def _url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        url = httpx.URL(self.api_url + path)
        return str(url.copy_merge_params(dict(params))) if params else str(url)

    def _check_same_origin(self, url: str, what: str) -> None:
        # The token goes with every request: never to another host than the API URL's.
        want, got = urlsplit(self.api_url), urlsplit(url)
        if (want.scheme, want.netloc) != (got.scheme, got.netloc):
            raise PostError(f"{self.api.name}'s {what} pointed to another host: {got.netloc}")

    def _request(self, method: str, url: str, body: dict[str, Any] | None = None) -> httpx.Response:
        with self.scrubbed():
            return self._retried(method, url, body)

    @contextmanager
    def scrubbed(self) -> Iterator[None]:
        """Every PostError raised inside with the token scrubbed from its message: a server (or
        a proxy in between) may echo the token back; nothing we print does."""
        try:
            yield
        except PostError as e:
            # A fresh exception, so that --debug's traceback holds no unscrubbed copy either.
            raise type(e)(self._scrub(e.message), hint=e.hint) from None

    def _scrub(self, text: str) -> str:
        # Real tokens are 20 characters or more; a shorter one would garble ordinary words.
        return text.replace(self._token, "***") if len(self._token) >= 8 else text

    def _retried(self, method: str, url: str, body: dict[str, Any] | None) -> httpx.Response:
        try:
            return retry.call_with_retry(
                lambda: self._attempt(method, url, body),
                self.policy.steps,
                retry_on=_TryAgain,
                server_wait=_named_wait,
                budget=self._budget,
                sleep=self._sleep,
            )
        except _TryAgain as e:
            hint = f"gave up after {self.policy.max_attempts} attempts"
            raise PostError(e.why, hint=hint) from None
        except retry.OverBudget as e:
            cause = e.__cause__
            why = cause.why if isinstance(cause, _TryAgain) else f"{self.api.name} kept failing"
            hint = "re-run the job later, or raise --max-wait"
            raise PostError(f"{why}; {e}", hint=hint) from None

    def _attempt(self, method: str, url: str, body: dict[str, Any] | None) -> httpx.Response:
        """One request: the response, or _TryAgain when it is worth a retry."""
        name = self.api.name
        try:
            response = self._http.request(method, url, json=body)
        except httpx.TransportError as e:
            raise _TryAgain(f"could not reach {name}: {type(e).__name__}: {e}") from e
        wait = rate_limit_wait(response, time.time())
        if wait is not None:
            why = f"rate limited by {name} ({response.status_code} {_message(response)})"
            raise _TryAgain(why, wait)
        if response.status_code >= 500:
            where = f"{method} {urlsplit(url).path}"
            raise _TryAgain(f"{name} answered {response.status_code} to {where}")
        _raise_for_status(response, method, url, self.api)
        return response


def _json(response: httpx.Response, api: HostApi) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        path = urlsplit(str(response.request.url)).path
        raise PostError(
            f"{api.name} answered {response.request.method} {path} with something that is not JSON",
            hint=api.url_hint,
        ) from None


def _raise_for_status(response: httpx.Response, method: str, url: str, api: HostApi) -> None:
    status = response.status_code
    where = f"{method} {urlsplit(url).path}"
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("location", "")).netloc or "an unknown place"
        raise Redirect(
            f"{api.name} answered {status} to {where} (a redirect to {target}); not followed",
            hint=f"the token is only sent to the API URL itself: {api.url_hint}; and check "
            "--repo (a renamed repository redirects)",
        )
    if status < 400:
        return
    detail = _message(response)
    hint = api.hints.get(status)
    if status == 401:
        raise PostError(f"{api.name} refused the token (401 {detail})", hint=hint)
    if status == 403:
        raise Forbidden(f"{api.name} refused {where} (403 {detail})", hint=hint)
    if status == 404:
        raise PostError(f"{api.name} found nothing at {where} (404)", hint=hint)
    if status in api.refused:
        raise Refused(f"{api.name} refused {where} ({status} {detail})")
    raise PostError(f"{api.name} answered {status} to {where}: {detail}")
