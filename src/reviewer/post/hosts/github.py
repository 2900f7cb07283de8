"""GitHub: the one module that knows its URLs and JSON shapes. GitHub's description for the
shared REST client (post.hosts.rest: auth, pagination, retries, errors), `GET /user`, GraphQL
requests through the same client (post.hosts.github_graphql: review threads), and GitHubHost,
the post.host interface on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from reviewer.errors import PostError
from reviewer.formats.sanitize import plain_line
from reviewer.post.check import CheckRun
from reviewer.post.host import (
    ChangeRequest,
    InlineComment,
    Note,
    NoteKind,
    ResolveRefused,
    ReviewResult,
)
from reviewer.post.hosts import github_graphql as gql
from reviewer.post.hosts.rest import (
    MAX_PAGES,
    Forbidden,
    HostApi,
    RestClient,
    RetryPolicy,
)
from reviewer.post.placement import PullFiles
from reviewer.post.target import Target
from reviewer.post.transport import Transport

GITHUB_API = HostApi(
    name="GitHub",
    auth_headers=lambda token: {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
    },
    refused=frozenset({422}),  # GitHub validated the request and refused it
    hints={
        401: "check that GITHUB_TOKEN is set to a valid token for this repository",
        403: "the token needs `pull-requests: write` (the summary comment too) and "
        "`checks: write` for the check run; a pull request from a fork gets a read-only "
        "token (use --annotations-fallback there)",
        404: "check --repo/--pr (or GITHUB_REPOSITORY and the event) and the token's access",
    },
    url_hint="check --api-url / GITHUB_API_URL: it must be the REST API's root URL",
)

# What GitHub wants for resolveReviewThread. Its documentation names no permission; what users
# report (community discussion 44650, and measured in Actions: `contents: read` with
# `pull-requests: write` is FORBIDDEN, `contents: write` succeeds) is `contents: write`.
RESOLVE_HINT = (
    "an installation token (the Actions GITHUB_TOKEN, a GitHub App's) resolves review threads "
    "only with `contents: write` besides `pull-requests: write`; without it the threads of fixed "
    "findings stay open (the summary lists current findings only)"
)


class GitHubClient(RestClient):
    """The shared REST client with GitHub's description, and `GET /user`."""

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
        super().__init__(
            api_url,
            token,
            GITHUB_API,
            policy=policy,
            sleep=sleep,
            timeout=timeout,
            transport=transport,
        )

    def current_login(self) -> str | None:
        """The login the token acts as (`GET /user`), or None when GitHub does not say: an
        installation token (the Actions GITHUB_TOKEN, a GitHub App's) gets 403 there."""
        try:
            user = self.get("/user")
        except Forbidden:
            return None
        login = user.get("login") if isinstance(user, dict) else None
        return login if isinstance(login, str) and login else None

    def graphql(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The `data` of a GraphQL request to the endpoint beside the REST root (same origin,
        retries, rate limits and token scrubbing as REST). An answer with `errors` is a
        PostError naming the first one (Forbidden for FORBIDDEN)."""
        body = {"query": query, "variables": dict(variables)}
        with self.scrubbed():
            return gql.answer_data(self.post_url(gql.graphql_url(self.api_url), body))


# --- the host interface ------------------------------------------------------------------

ACTIONS_BOT = "github-actions[bot]"  # the author of everything the Actions GITHUB_TOKEN writes


def pull_path(target: Target) -> str:
    return f"/repos/{target.repo}/pulls/{target.number}"


def issue_path(target: Target) -> str:
    return f"/repos/{target.repo}/issues/{target.number}"


def pull_files(files: Iterable[Mapping[str, Any]]) -> PullFiles:
    """The pull request's files endpoint: `filename`, and `patch` unless GitHub shows none."""
    patches = ((str(item["filename"]), item.get("patch")) for item in files)
    return PullFiles.from_patches(patches, GITHUB_API.name, GITHUB_API.request)


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


def _inline_note(item: Any, threads: Mapping[int, gql.Thread]) -> Note:
    """A review comment with the thread it started, if it started one (a reply did not)."""
    note = _note(item, NoteKind.INLINE)
    thread = threads.get(note.id)
    if thread is None:
        return note
    return Note(note.id, note.kind, note.author, note.body, thread.is_resolved, thread.id)


class GitHubHost:
    """A pull request on GitHub. Comments, reviews and the summary go through REST; review
    threads (which REST cannot resolve) through GraphQL."""

    name = GITHUB_API.name
    request = GITHUB_API.request
    can_resolve_threads = True

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
        threads = self._threads()
        return [
            *(_inline_note(c, threads) for c in self.client.paginate(pull + "/comments")),
            *(_note(r, NoteKind.REVIEW) for r in self.client.paginate(pull + "/reviews")),
            *(_note(c, NoteKind.TOP) for c in self.client.paginate(issue + "/comments")),
        ]

    def suggestion_fence(self, first: int, last: int) -> str | None:
        return "suggestion"  # replaces the comment's lines, start_line..line

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
        """resolveReviewThread on the thread the note started. GitHub's FORBIDDEN (or a 403)
        is ResolveRefused: a missing permission, with the hint naming it."""
        if note.thread is None:
            raise ResolveRefused(f"GitHub listed no review thread for comment {note.id}")
        try:
            data = self.client.graphql(gql.RESOLVE_MUTATION, {"thread": note.thread})
        except Forbidden as e:
            raise ResolveRefused(e.message, hint=RESOLVE_HINT) from None
        if not gql.resolved(data):
            raise ResolveRefused(f"GitHub did not resolve the review thread of comment {note.id}")

    def _threads(self) -> dict[int, gql.Thread]:
        """Every review thread of the pull request (all pages), by the REST id of its first
        comment."""
        owner, _, name = self.target.repo.partition("/")
        variables: dict[str, Any] = {"owner": owner, "name": name, "number": self.target.number}
        threads: dict[int, gql.Thread] = {}
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            data = self.client.graphql(gql.THREADS_QUERY, {**variables, "after": cursor})
            page, cursor = gql.thread_page(data)
            threads.update((t.first_comment, t) for t in page if t.first_comment is not None)
            if cursor is None:
                return threads
        raise PostError(f"GitHub kept paginating the review threads past {MAX_PAGES} pages")

    def set_status(self, status: CheckRun) -> None:
        """A new check run on every post: GitHub shows, and branch protection uses, the latest
        check run of a name on a commit, so a re-run replaces the verdict."""
        self.client.post_gate(
            f"/repos/{self.target.repo}/check-runs",
            check_run_body(status),
            what="create the check run",
            hint="give the job `checks: write`; check runs need the Actions GITHUB_TOKEN or a "
            "GitHub App token (a personal access token cannot create them); or pass "
            "--no-check-run",
        )

    def close(self) -> None:
        self.client.close()


def connect(
    target: Target,
    token: str,
    *,
    transport: Transport,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> GitHubHost:
    """The pull request `target` names, on GitHub (post.hosts.open_host calls this)."""
    client = GitHubClient(target.api_url, token, policy=policy, sleep=sleep, transport=transport)
    return GitHubHost(client, target, in_actions=target.in_actions)
