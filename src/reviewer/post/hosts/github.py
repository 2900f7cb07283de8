"""GitHub: the one module that knows its URLs and JSON shapes. A small REST client (token
auth, `Link` pagination, bounded waits on rate limits, backoff on 5xx and transport faults, both
through the one retry primitive, net.retry) and GitHubHost, the post.host interface on it.
Transport and HTTP errors become PostError here, with the token scrubbed from every message.
Requests go only to the API URL's origin: no redirect is followed, and proxies and CA
certificates come from post.transport, not from httpx's defaults."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from reviewer import __version__
from reviewer.errors import PostError
from reviewer.formats.sanitize import plain_line
from reviewer.net import retry
from reviewer.post.check import CheckRun
from reviewer.post.host import (
    ChangeRequest,
    HostForbidden,
    HostRefused,
    InlineComment,
    Note,
    NoteKind,
    ReviewResult,
)
from reviewer.post.placement import PullFiles
from reviewer.post.target import Target
from reviewer.post.transport import Transport
from reviewer.settings.config import DEFAULT_POST_MAX_WAIT

MAX_PAGES = 200  # 100 per page: far more than GitHub's 3,000-file cap on a pull request


class GitHubForbidden(HostForbidden):
    """403 that is not a rate limit: usually a read-only token (a pull request from a fork)."""


class GitHubRedirect(PostError):
    """3xx: never followed, since the token would go with the request to wherever it points."""


class GitHubUnprocessable(HostRefused):
    """422: GitHub validated the request and refused it (a review comment off the diff)."""


# GitHub's advice when it rate-limits without a usable wait: come back in a minute.
DEFAULT_RATE_LIMIT_WAIT = 60.0
# No wait GitHub asks for counts as more than a day (--max-wait refuses it long before).
MAX_SERVER_WAIT = 86_400.0


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
        GitHub names is the wait."""
        return retry.RetryPolicy(
            retries=self.max_attempts - 1,
            base_delay=self.backoff_s,
            max_delay=math.inf,
            jitter=False,
        )


class _TryAgain(Exception):
    """A failure worth another attempt: why, and the wait GitHub named (None: back off)."""

    def __init__(self, why: str, wait: float | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.wait = wait


def _named_wait(error: _TryAgain) -> float | None:
    return error.wait


def _rate_limit_wait(response: httpx.Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or None when this is not a rate-limit answer: a
    secondary limit's Retry-After, or a primary limit's reset time."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        wait = retry.parse_retry_after(retry_after, now=now, cap=MAX_SERVER_WAIT)
        return DEFAULT_RATE_LIMIT_WAIT if wait is None else wait
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset", "")
        if not (reset.isascii() and reset.isdigit()):
            return DEFAULT_RATE_LIMIT_WAIT
        return min(max(0.0, float(reset) - now), MAX_SERVER_WAIT)
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
    """One token, one API origin. `transport` (post.transport) is the proxy and the TLS
    verification for that origin; without it, no proxy and the default CA bundle."""

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        transport: Transport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
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
        return _json(self._request("GET", self.api_url + path))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return _json(self._request("POST", self.api_url + path, body))

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return _json(self._request("PATCH", self.api_url + path, body))

    def current_login(self) -> str | None:
        """The login the token acts as (`GET /user`), or None when GitHub does not say: an
        installation token (the Actions GITHUB_TOKEN, a GitHub App's) gets 403 there."""
        try:
            user = self.get("/user")
        except GitHubForbidden:
            return None
        login = user.get("login") if isinstance(user, dict) else None
        return login if isinstance(login, str) and login else None

    def paginate(self, path: str, per_page: int = 100) -> list[Any]:
        """Every item of a list endpoint, following `Link: <...>; rel="next"`."""
        items: list[Any] = []
        url: str | None = f"{self.api_url}{path}?per_page={per_page}"
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            self._check_same_origin(url)
            response = self._request("GET", url)
            page = _json(response)
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
        try:
            return self._retried(method, url, body)
        except PostError as e:
            # A server (or a proxy in between) may echo the token back; nothing we print does.
            # A fresh exception, so that --debug's traceback holds no unscrubbed copy either.
            raise type(e)(self._scrub(e.message), hint=e.hint) from None

    def _scrub(self, text: str) -> str:
        # Real tokens are 40 characters or more; a shorter one would garble ordinary words.
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
            why = e.__cause__.why if isinstance(e.__cause__, _TryAgain) else "GitHub kept failing"
            hint = "re-run the job later, or raise --max-wait"
            raise PostError(f"{why}; {e}", hint=hint) from None

    def _attempt(self, method: str, url: str, body: dict[str, Any] | None) -> httpx.Response:
        """One request: the response, or _TryAgain when it is worth a retry."""
        try:
            response = self._http.request(method, url, json=body)
        except httpx.TransportError as e:
            raise _TryAgain(f"could not reach GitHub: {type(e).__name__}: {e}") from e
        wait = _rate_limit_wait(response, time.time())
        if wait is not None:
            why = f"rate limited by GitHub ({response.status_code} {_message(response)})"
            raise _TryAgain(why, wait)
        if response.status_code >= 500:
            where = f"{method} {urlsplit(url).path}"
            raise _TryAgain(f"GitHub answered {response.status_code} to {where}")
        _raise_for_status(response, method, url)
        return response


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        path = urlsplit(str(response.request.url)).path
        raise PostError(
            f"GitHub answered {response.request.method} {path} with something that is not JSON",
            hint="check --api-url / GITHUB_API_URL: it must be the REST API's root URL",
        ) from None


def _raise_for_status(response: httpx.Response, method: str, url: str) -> None:
    status = response.status_code
    where = f"{method} {urlsplit(url).path}"
    if 300 <= status < 400:
        target = urlsplit(response.headers.get("location", "")).netloc or "an unknown place"
        raise GitHubRedirect(
            f"GitHub answered {status} to {where} (a redirect to {target}); not followed",
            hint="the token is only sent to the API URL itself: check --api-url / "
            "GITHUB_API_URL, and --repo (a renamed repository redirects)",
        )
    if status < 400:
        return
    detail = _message(response)
    if status == 401:
        raise PostError(
            f"GitHub refused the token (401 {detail})",
            hint="check that GITHUB_TOKEN is set to a valid token for this repository",
        )
    if status == 403:
        raise GitHubForbidden(
            f"GitHub refused {where} (403 {detail})",
            hint="the token needs `pull-requests: write` (the summary comment too) and "
            "`checks: write` for the check run; a pull request from a fork gets a read-only "
            "token (use --annotations-fallback there)",
        )
    if status == 404:
        raise PostError(
            f"GitHub found nothing at {where} (404)",
            hint="check --repo/--pr (or GITHUB_REPOSITORY and the event) and the token's access",
        )
    if status == 422:
        raise GitHubUnprocessable(f"GitHub refused {where} (422 {detail})")
    raise PostError(f"GitHub answered {status} to {where}: {detail}")


# --- the host interface ------------------------------------------------------------------

ACTIONS_BOT = "github-actions[bot]"  # the author of everything the Actions GITHUB_TOKEN writes


def pull_path(target: Target) -> str:
    return f"/repos/{target.repo}/pulls/{target.number}"


def issue_path(target: Target) -> str:
    return f"/repos/{target.repo}/issues/{target.number}"


def pull_files(files: Iterable[Mapping[str, Any]]) -> PullFiles:
    """The pull request's files endpoint: `filename`, and `patch` unless GitHub shows none."""
    patches = ((str(item["filename"]), item.get("patch")) for item in files)
    return PullFiles.from_patches(patches, "GitHub")


def review_comment(comment: InlineComment) -> dict[str, Any]:
    """GitHub's review comment: on a LEFT finding `line`/`start_line` are old-file numbers of
    removed lines, on RIGHT new-file numbers (a range stays on one side)."""
    body: dict[str, Any] = {
        "path": comment.path,
        "body": comment.body,
        "line": comment.last,
        "side": comment.side,
    }
    if comment.first < comment.last:
        body["start_line"] = comment.first
        body["start_side"] = comment.side
    return body


def check_run_body(run: CheckRun) -> dict[str, Any]:
    return {
        "name": run.name,
        "head_sha": run.head_sha,
        "status": "completed",
        "conclusion": run.conclusion,
        "output": {"title": plain_line(run.title), "summary": run.summary},
    }


def _login(item: Any) -> str | None:
    user = item.get("user") if isinstance(item, dict) else None
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else None


def _note(item: Any, kind: NoteKind) -> Note:
    return Note(int(item["id"]), kind, _login(item), str(item.get("body") or ""))


class GitHubHost:
    """A pull request on GitHub. Review threads cannot be resolved: REST has no endpoint for
    it (only GraphQL's resolveReviewThread, which nothing here can validate a request against),
    so a fixed finding's inline comment stays open."""

    name = "GitHub"
    can_resolve_threads = False

    def __init__(self, client: GitHubClient, target: Target, *, in_actions: bool) -> None:
        self.client = client
        self.target = target
        self._in_actions = in_actions

    def change_request(self) -> ChangeRequest:
        pull = self.client.get(pull_path(self.target))
        head = str(pull.get("head", {}).get("sha") or self.target.head_sha or "")
        base = str(pull.get("base", {}).get("sha") or "")
        files = pull_files(self.client.paginate(pull_path(self.target) + "/files"))
        return ChangeRequest(head, base, files)

    def notes(self) -> list[Note]:
        pull, issue = pull_path(self.target), issue_path(self.target)
        return [
            *(_note(c, NoteKind.INLINE) for c in self.client.paginate(pull + "/comments")),
            *(_note(r, NoteKind.REVIEW) for r in self.client.paginate(pull + "/reviews")),
            *(_note(c, NoteKind.TOP) for c in self.client.paginate(issue + "/comments")),
        ]

    def identity(self) -> str | None:
        """`GET /user`; an installation token (the Actions GITHUB_TOKEN) gets 403 there, and in
        GitHub Actions writes as github-actions[bot]."""
        login = self.client.current_login()
        if login is None and self._in_actions:
            return ACTIONS_BOT
        return login

    def create_review(
        self, head_sha: str, body: str, comments: Sequence[InlineComment]
    ) -> ReviewResult:
        """One review; GitHub refuses it whole (422) when any comment is off its diff."""
        payload: dict[str, Any] = {"event": "COMMENT", "body": body}
        if head_sha:
            payload["commit_id"] = head_sha
        if comments:
            payload["comments"] = [review_comment(c) for c in comments]
        created = self.client.post(pull_path(self.target) + "/reviews", payload)
        return ReviewResult(int(created["id"]))

    def create_note(self, body: str) -> Note:
        created = self.client.post(issue_path(self.target) + "/comments", {"body": body})
        return _note(created, NoteKind.TOP)

    def edit_note(self, note_id: int, body: str) -> Note:
        path = f"/repos/{self.target.repo}/issues/comments/{note_id}"
        edited = self.client.patch(path, {"body": body})
        return Note(note_id, NoteKind.TOP, _login(edited), body)

    def resolve_thread(self, note: Note) -> None:
        raise PostError("GitHub's REST API cannot resolve a review thread")

    def set_status(self, status: CheckRun) -> None:
        """A new check run on every post: GitHub shows, and branch protection uses, the latest
        check run of a name on a commit, so a re-run replaces the verdict."""
        try:
            self.client.post(f"/repos/{self.target.repo}/check-runs", check_run_body(status))
        except GitHubForbidden as e:
            # Not GitHubForbidden any more: --annotations-fallback must not hide a missing gate.
            raise PostError(
                f"GitHub refused to create the check run: {e.message}",
                hint="give the job `checks: write`; check runs need the Actions GITHUB_TOKEN or a "
                "GitHub App token (a personal access token cannot create them); or pass "
                "--no-check-run",
            ) from None

    def close(self) -> None:
        self.client.close()
