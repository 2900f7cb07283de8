"""Gitea and Forgejo (one API, v1): the one module that knows their URLs and JSON shapes.
Gitea's description for the shared REST client (post.hosts.rest) and GiteaHost, the post.host
interface on it. What Gitea does differently from GitHub, from its own source:

- a review comment off the diff is not refused: Gitea stores it with no diff context
  (services/pull/review.go createCodeComment tolerates a line the file lacks, and
  git.CutDiffAroundLine answers "" for a line no hunk holds). So the review is made PENDING
  first, its comments read back, and only a review whose every comment landed on the diff is
  submitted; otherwise it is deleted and the comments that landed are posted again alone.
- the review list sends X-Total-Count but no Link header (routers/api/v1/repo/pull_review.go
  ListPullReviews): it is read page by page until a page comes back empty.
- no endpoint resolves a review comment: a fixed finding's comment stays open.
- comments are single-line (new_position or old_position): a range goes on its last line,
  and the comment's heading names the whole range (post.bodies)."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from reviewer.diff.parse import parse_diff
from reviewer.errors import DiffError, PostError
from reviewer.formats.sanitize import plain_line
from reviewer.models import Hunk, LineKind
from reviewer.post.check import CheckRun
from reviewer.post.host import ChangeRequest, InlineComment, Note, NoteKind, ReviewResult
from reviewer.post.hosts.rest import (
    MAX_PAGES,
    Forbidden,
    HostApi,
    RestClient,
    RetryPolicy,
)
from reviewer.post.placement import PullFiles
from reviewer.post.target import Target, gitea_name
from reviewer.post.transport import Transport

NAME = gitea_name(None)  # in messages when the instance is not known to be either
PAGE_LIMIT = 50  # Gitea's default [api] MAX_RESPONSE_ITEMS: a larger limit is cut to it

GITEA_API = HostApi(
    name=NAME,
    auth_headers=lambda token: {"Authorization": f"token {token}", "Accept": "application/json"},
    # 422: Gitea validated the request and refused it (a review on a closed pull request, an
    # empty review). A comment off the diff is not among them: see the module's docstring.
    refused=frozenset({422}),
    page_size=("limit", PAGE_LIMIT),
    hints={
        401: "check REVIEWER_GITEA_TOKEN (else GITEA_TOKEN, else the job's GITHUB_TOKEN): it "
        "must be a valid token of this Gitea/Forgejo instance",
        403: "the token needs write access to the repository's pull requests and issues (an "
        "access token: scopes write:repository and write:issue); a pull request from a fork "
        "gets a read-only job token (use --annotations-fallback there)",
        404: "check --repo OWNER/NAME and --pr (or GITHUB_REPOSITORY and the event), and that "
        "the token can read the repository",
    },
    url_hint="check --api-url / GITHUB_API_URL: it must be the API's root, https://HOST/api/v1",
)

# The account the Actions job token writes as (models/user/user_system.go, ActionsUserName):
# Gitea's and Forgejo's own, used only inside their Actions when `GET /user` is refused.
GITEA_ACTIONS_USER = "gitea-actions"
FORGEJO_ACTIONS_USER = "forgejo-actions"

# A required status check passes only on "success" (services/pull/commit_status.go:
# IsPullCommitStatusPass is state.IsSuccess(); "warning" blocks the merge like "failure").
# Neutral (review incomplete, LOCAL_LLM_OPTIONAL accepts that) must not block, as GitHub's
# neutral check run does not: success, with the title saying why.
STATUS_STATE = {"success": "success", "failure": "failure", "neutral": "success"}
DESCRIPTION_LIMIT = 140  # one line in the status list (GitHub caps it at 140; Gitea keeps it)


def actions_user(in_actions: bool, env: Mapping[str, str]) -> str | None:
    """Who the Actions job token writes as inside Gitea or Forgejo Actions (else None): Forgejo's
    runner sets FORGEJO_ACTIONS beside GITEA_ACTIONS."""
    if not in_actions:
        return None
    return FORGEJO_ACTIONS_USER if env.get("FORGEJO_ACTIONS") == "true" else GITEA_ACTIONS_USER


def pull_files(diff_text: str, name: str = NAME) -> PullFiles:
    """The pull request's `.diff` (git's own output, read by the project's one diff parser):
    each file's commentable lines per hunk by its path (the old path of a deleted file), None
    for a binary file or one without hunks (a pure rename)."""
    try:
        files = parse_diff(diff_text)
    except DiffError as e:
        raise PostError(
            f"{name}'s diff of the pull request could not be read: {e.message}"
        ) from None
    right: dict[str, list[frozenset[int]] | None] = {}
    left: dict[str, list[frozenset[int]] | None] = {}
    for f in files:
        shown = f.hunks and not f.is_binary
        right[f.path] = [_numbers(h, new=True) for h in f.hunks] if shown else None
        left[f.path] = [_numbers(h, new=False) for h in f.hunks] if shown else None
    return PullFiles(right, left, name, GITEA_API.request)


def _numbers(hunk: Hunk, *, new: bool) -> frozenset[int]:
    """RIGHT: the new-file numbers of added and context lines; LEFT: the old-file numbers of
    removed lines (what placement.commentable_hunks reads from a patch)."""
    if new:
        return frozenset(n.new_no for n in hunk.lines if n.new_no is not None)
    return frozenset(
        n.old_no for n in hunk.lines if n.kind is LineKind.REMOVED and n.old_no is not None
    )


def review_comment(comment: InlineComment) -> dict[str, Any]:
    """Gitea's review comment is on one line: new_position (an added or context line, by its
    new-file number) or old_position (a removed line). A range goes on its last line."""
    where = "old_position" if comment.side == "LEFT" else "new_position"
    return {"path": comment.path, "body": comment.body, where: comment.last}


def status_body(run: CheckRun) -> dict[str, Any]:
    return {
        "state": STATUS_STATE[run.conclusion],
        "context": run.name,
        "description": plain_line(run.title, DESCRIPTION_LIMIT),
    }


def _login(item: Any) -> str | None:
    user = item.get("user") if isinstance(item, dict) else None
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else None


def _note(item: Any, kind: NoteKind) -> Note:
    resolved = kind is NoteKind.INLINE and item.get("resolver") is not None
    return Note(int(item["id"]), kind, _login(item), str(item.get("body") or ""), resolved)


def _key(comment: Mapping[str, Any], new: str, old: str) -> tuple[str, int, int, str]:
    return (
        str(comment.get("path") or ""),
        int(comment.get(new) or 0),
        int(comment.get(old) or 0),
        str(comment.get("body") or "").strip(),
    )


def off_diff(sent: Sequence[Mapping[str, Any]], landed: Iterable[Mapping[str, Any]]) -> set[int]:
    """The indices of the `sent` comments that did not land on the diff: Gitea stored them
    without diff context, or not at all. Matched by path, line and body (Gitea lists a review's
    comments grouped by file and line, not in the order they were sent)."""
    on_diff = Counter(
        _key(c, "position", "original_position") for c in landed if c.get("diff_hunk")
    )
    missing: set[int] = set()
    for i, comment in enumerate(sent):
        key = _key(comment, "new_position", "old_position")
        if on_diff[key] > 0:
            on_diff[key] -= 1
        else:
            missing.add(i)
    return missing


class GiteaClient(RestClient):
    """The shared REST client with Gitea's description, and the one list Gitea pages without
    a Link header."""

    def pages(self, path: str) -> list[Any]:
        """Every item of a list that says only X-Total-Count (the pull request's reviews),
        page by page until an empty one: a short page is no end, since the server may cap the
        limit below ours."""
        items: list[Any] = []
        for page in range(1, MAX_PAGES + 1):
            batch = self.get(path, {"limit": PAGE_LIMIT, "page": page})
            if not isinstance(batch, list):
                raise PostError(f"{self.api.name} answered {path} with something other than a list")
            if not batch:
                return items
            items.extend(batch)
        raise PostError(f"{self.api.name} kept paginating {path} past {MAX_PAGES} pages")


class GiteaHost:
    """A pull request on Gitea or Forgejo. Review comments cannot be resolved through the API
    (neither has an endpoint for it), so a fixed finding's inline comment stays open; the
    summary, edited on every run, lists only the current findings."""

    can_resolve_threads = False

    def __init__(self, client: GiteaClient, target: Target, *, actions_user: str | None) -> None:
        self.name = client.api.name  # Gitea, Forgejo, or both when not known
        self.request = client.api.request
        self.client = client
        self.target = target
        self._actions_user = actions_user
        self._login: str | None = None
        repo = f"/repos/{target.repo}"
        self._repo, self._pull = repo, f"{repo}/pulls/{target.number}"
        self._issue = f"{repo}/issues/{target.number}"

    def suggestion_fence(self, first: int, last: int) -> str | None:
        """None: Gitea and Forgejo do not apply ```suggestion blocks (they render as code)."""
        return None

    def change_request(self) -> ChangeRequest:
        pull = self.client.get(self._pull)
        head = str((pull.get("head") or {}).get("sha") or self.target.head_sha or "")
        base = str((pull.get("base") or {}).get("sha") or "")
        diff = self.client.text(self._pull + ".diff")
        return ChangeRequest(head, base, pull_files(diff, self.name))

    def notes(self) -> list[Note]:
        """Submitted reviews and their comments, and the issue comments. A PENDING review is
        seen by its author alone: nothing of it counts as posted."""
        reviews = [r for r in self._reviews() if r.get("state") != "PENDING"]
        inline = [
            _note(c, NoteKind.INLINE)
            for r in reviews
            if r.get("comments_count", 1)
            for c in self.client.get(f"{self._pull}/reviews/{int(r['id'])}/comments")
        ]
        # Not paginated: Gitea answers every comment (ListIssueComments takes since/before).
        top = [_note(c, NoteKind.TOP) for c in self.client.get(self._issue + "/comments")]
        return [*inline, *(_note(r, NoteKind.REVIEW) for r in reviews), *top]

    def identity(self) -> str | None:
        """`GET /user`; when it is refused inside Gitea or Forgejo Actions, the job token's own
        account (gitea-actions, forgejo-actions)."""
        if self._login is None:
            try:
                user = self.client.get("/user")
            except Forbidden:
                user = None
            login = user.get("login") if isinstance(user, dict) else None
            self._login = login if isinstance(login, str) and login else self._actions_user
        return self._login

    def create_review(
        self, head_sha: str, body: str, comments: Sequence[InlineComment]
    ) -> ReviewResult:
        """One review. With comments: made PENDING, checked, then submitted; the comments Gitea
        put off its diff are reported refused (the poster moves them to a review body), and
        the review is posted again without them, so no comment without context is left."""
        payload: dict[str, Any] = {"event": "COMMENT", "body": body}
        if head_sha:
            payload["commit_id"] = head_sha
        if not comments:
            return ReviewResult(int(self.client.post(self._pull + "/reviews", payload)["id"]))
        sent = [review_comment(c) for c in comments]
        submitted, refused = self._pending_review(payload, sent)
        if submitted is not None:
            return ReviewResult(submitted)
        kept = [c for i, c in enumerate(sent) if i not in refused]
        if not kept:
            return ReviewResult(None, frozenset(refused))
        created = self.client.post(self._pull + "/reviews", {**payload, "comments": kept})
        return ReviewResult(int(created["id"]), frozenset(refused))

    def _pending_review(
        self, payload: dict[str, Any], sent: list[dict[str, Any]]
    ) -> tuple[int | None, set[int]]:
        """The review made PENDING and read back: submitted (its id) when exactly the sent
        comments are in it, each on the diff; else deleted, with the indices of those that
        did not land on the diff. A pending review of ours an earlier run left behind (it died
        between posting and submitting) takes the new comments too (Gitea's GetCurrentReview):
        its old ones make the count differ, and it is deleted rather than submitted."""
        pending = self.client.post(
            self._pull + "/reviews", {**payload, "event": "PENDING", "comments": sent}
        )
        review = f"{self._pull}/reviews/{int(pending['id'])}"
        landed = self.client.get(review + "/comments")
        refused = off_diff(sent, landed)
        if not refused and len(landed) == len(sent):
            submitted = self.client.post(review, {"event": "COMMENT", "body": payload["body"]})
            return int(submitted["id"]), set()
        self.client.delete(review)
        return None, refused

    def _reviews(self) -> list[Any]:
        return self.client.pages(self._pull + "/reviews")

    def create_note(self, body: str) -> Note:
        return _note(self.client.post(self._issue + "/comments", {"body": body}), NoteKind.TOP)

    def edit_note(self, note_id: int, body: str) -> Note:
        edited = self.client.patch(f"{self._repo}/issues/comments/{note_id}", {"body": body})
        return Note(note_id, NoteKind.TOP, _login(edited), body)

    def resolve_thread(self, note: Note) -> None:
        raise PostError(f"{self.name}'s API cannot resolve a review comment")

    def set_status(self, status: CheckRun) -> None:
        """A commit status on the head, its context the check's name: the newest status of a
        context is the one branch protection's required checks read, so a re-run replaces it."""
        self.client.post_gate(
            f"{self._repo}/statuses/{status.head_sha}",
            status_body(status),
            what="set the commit status",
            hint="the token needs write access to the repository's code (an access token: "
            "scope write:repository); or pass --no-check-run",
        )

    def close(self) -> None:
        self.client.close()


def connect(
    target: Target,
    token: str,
    *,
    transport: Transport | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    env: Mapping[str, str] | None = None,
) -> GiteaHost:
    """The pull request `target` names on a Gitea or Forgejo instance (`target.api_url` is its
    /api/v1 root; post.hosts.open_host calls this). `env` (the process's by default) tells
    Forgejo's Actions from Gitea's."""
    api = replace(GITEA_API, name=gitea_name(target.forgejo))
    client = GiteaClient(
        target.api_url, token, api, policy=policy, sleep=sleep, transport=transport
    )
    who = actions_user(target.in_actions, os.environ if env is None else env)
    return GiteaHost(client, target, actions_user=who)
