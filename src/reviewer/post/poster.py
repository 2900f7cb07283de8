"""One `reviewer post` against one pull request: read what is there, place every finding,
post at most one review and one summary (edited in place on re-runs). Only what the poster's
own identity wrote counts: anyone can write a comment that looks like ours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from reviewer.formats.common import line_span, sorted_findings
from reviewer.formats.summary import SUMMARY_MARKER, Placed, Where, summary_body
from reviewer.models import FindingsDocument
from reviewer.post.bodies import fallback_review_body, inline_body, marked_fingerprints, review_body
from reviewer.post.github import GitHubClient, GitHubUnprocessable
from reviewer.post.placement import PullFiles, place
from reviewer.post.target import Target


@dataclass(frozen=True)
class Plan:
    """Everything read from GitHub and decided before the first write."""

    placed: list[Placed]
    head_sha: str
    summary_id: int | None
    head_note: str = ""

    @property
    def new_inline(self) -> list[Placed]:
        return [p for p in self.placed if p.where is Where.INLINE and not p.already_posted]


@dataclass(frozen=True)
class Outcome:
    placed: list[Placed]
    review_id: int | None
    summary_id: int
    summary_created: bool
    summary: str
    fallback: bool = False
    posted_as: str | None = None  # the summary's author as GitHub reports it

    def author_mismatch(self, author: str) -> str | None:
        """The real author when GitHub says we posted as someone else than we assumed."""
        if self.posted_as is None or self.posted_as.casefold() == author.casefold():
            return None
        return self.posted_as

    def count(self, where: Where, already: bool = False) -> int:
        return sum(1 for p in self.placed if p.where is where and p.already_posted is already)


def review_comment(p: Placed) -> dict[str, Any]:
    """GitHub's review comment: on a LEFT finding `line`/`start_line` are old-file numbers of
    removed lines, on RIGHT new-file numbers (a range stays on one side)."""
    first, last = line_span(p.finding)
    comment: dict[str, Any] = {
        "path": p.finding.path,
        "body": inline_body(p.finding),
        "line": last,
        "side": p.finding.side,
    }
    if first < last:
        comment["start_line"] = first
        comment["start_side"] = p.finding.side
    return comment


def authored_by(item: Any, login: str) -> bool:
    """Whether a comment or review was written by `login` (GitHub logins ignore case)."""
    user = item.get("user") if isinstance(item, dict) else None
    found = user.get("login") if isinstance(user, dict) else None
    return isinstance(found, str) and found.casefold() == login.casefold()


def _posted_fingerprints(comments: list[Any], reviews: list[Any]) -> dict[str, Where]:
    found: dict[str, Where] = {}
    for review in reviews:
        for fp in marked_fingerprints(review.get("body")):
            found[fp] = Where.REVIEW
    for comment in comments:
        for fp in marked_fingerprints(comment.get("body")):
            found[fp] = Where.INLINE
    return found


def _head_note(document: FindingsDocument, head_sha: str) -> str:
    reviewed = document.head or ""
    if (
        not reviewed
        or not head_sha
        or head_sha.startswith(reviewed)
        or reviewed.startswith(head_sha)
    ):
        return ""
    return (
        f"The pull request has moved on since the review (reviewed {reviewed[:12]}, now "
        f"{head_sha[:12]}); only findings on lines of the current diff were commented inline."
    )


class Poster:
    def __init__(self, client: GitHubClient, target: Target, author: str) -> None:
        self.client = client
        self.target = target
        self.author = author  # the login our comments are written by (post.identity)

    def _ours(self, items: list[Any]) -> list[Any]:
        return [item for item in items if authored_by(item, self.author)]

    def plan(self, document: FindingsDocument) -> Plan:
        """Reads only: the pull request, its files, existing comments, reviews, summary."""
        from reviewer.formats.sanitize import safe_marker_value

        pull = self.client.get(self.target.pull)
        head_sha = str(pull.get("head", {}).get("sha") or self.target.head_sha or "")
        files = PullFiles.from_api(self.client.paginate(self.target.pull + "/files"))
        # A fingerprint planted by someone else must not suppress a finding.
        comments = self._ours(self.client.paginate(self.target.pull + "/comments"))
        reviews = self._ours(self.client.paginate(self.target.pull + "/reviews"))
        posted = _posted_fingerprints(comments, reviews)
        # Markers hold the safe form of a fingerprint; compare in that form.
        already = {
            f.fingerprint: posted[safe_marker_value(f.fingerprint)]
            for f in document.findings
            if safe_marker_value(f.fingerprint) in posted
        }
        placed = place(sorted_findings(document.findings), files, already)
        return Plan(placed, head_sha, self._find_summary(), _head_note(document, head_sha))

    def _find_summary(self) -> int | None:
        # A planted summary marker is neither edited (we could not) nor taken as ours.
        for comment in self._ours(self.client.paginate(self.target.issue + "/comments")):
            if str(comment.get("body") or "").startswith(SUMMARY_MARKER):
                return int(comment["id"])
        return None

    def apply(self, document: FindingsDocument, plan: Plan, updated_at: str) -> Outcome:
        """Writes, one at a time: the review (if anything new goes inline), then the summary."""
        placed, review_id, fallback = plan.placed, None, False
        if plan.new_inline:
            try:
                review_id = self._post_review(
                    plan.head_sha,
                    review_body(len(plan.new_inline)),
                    [review_comment(p) for p in plan.new_inline],
                )
            except GitHubUnprocessable:
                fallback = True
                placed, review_id = self._fallback(plan)
        body = summary_body(document, placed, updated_at=updated_at, head_note=plan.head_note)
        summary_id, created, posted_as = self._upsert_summary(plan.summary_id, body)
        return Outcome(placed, review_id, summary_id, created, body, fallback, posted_as)

    def _post_review(self, head_sha: str, body: str, comments: list[dict[str, Any]]) -> int:
        payload: dict[str, Any] = {"event": "COMMENT", "body": body}
        if head_sha:
            payload["commit_id"] = head_sha
        if comments:
            payload["comments"] = comments
        return int(self.client.post(self.target.pull + "/reviews", payload)["id"])

    def _fallback(self, plan: Plan) -> tuple[list[Placed], int | None]:
        """GitHub refused the inline comments: post the same findings in the review body;
        anything that does not fit (or a second refusal) goes to the summary."""
        body, kept = fallback_review_body(plan.new_inline)
        kept_ids = {id(p) for p in kept}
        review_id: int | None = None
        try:
            review_id = self._post_review(plan.head_sha, body, [])
        except GitHubUnprocessable:
            kept_ids = set()
        return [_after_fallback(p, kept_ids) for p in plan.placed], review_id

    def _upsert_summary(self, summary_id: int | None, body: str) -> tuple[int, bool, str | None]:
        """(comment id, whether it was created, its author's login)."""
        if summary_id is not None:
            path = f"/repos/{self.target.repo}/issues/comments/{summary_id}"
            edited = self.client.patch(path, {"body": body})
            return summary_id, False, _login(edited)
        created = self.client.post(self.target.issue + "/comments", {"body": body})
        return int(created["id"]), True, _login(created)


def _login(item: Any) -> str | None:
    user = item.get("user") if isinstance(item, dict) else None
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else None


def _after_fallback(p: Placed, kept_ids: set[int]) -> Placed:
    if p.where is not Where.INLINE or p.already_posted:
        return p
    if id(p) in kept_ids:
        return replace(p, where=Where.REVIEW)
    return replace(p, where=Where.SUMMARY, reason="GitHub refused the inline comment")


def describe(placed: Sequence[Placed]) -> str:
    """One line per finding: where it goes, for --dry-run and the log."""
    from reviewer.formats.common import location
    from reviewer.security import neutralise_terminal

    lines = []
    for p in placed:
        state = "already posted" if p.already_posted else "new"
        why = f" ({p.reason})" if p.reason else ""
        lines.append(
            f"  {p.where.value:<7} {state:<14} {p.finding.severity.value:<8} "
            + neutralise_terminal(f"{location(p.finding)}  {p.finding.title}{why}")
        )
    return "\n".join(lines)
