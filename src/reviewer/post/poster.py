"""One `reviewer post` against one change request, through the post.host interface only: read
what is there, place every finding, post at most one review and one summary (edited in place on
re-runs), resolve the threads of findings that are gone where the host can. Only what the
poster's own identity wrote counts: anyone can write a comment that looks like ours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from reviewer.formats.common import line_span, sorted_findings
from reviewer.formats.summary import SUMMARY_MARKER, Placed, Where, summary_body
from reviewer.models import FindingsDocument, Severity, Status
from reviewer.post.bodies import fallback_review_body, inline_body, marked_fingerprints, review_body
from reviewer.post.host import (
    Host,
    HostRefused,
    InlineComment,
    Note,
    NoteKind,
    ResolveRefused,
)
from reviewer.post.placement import place


@dataclass(frozen=True)
class Plan:
    """Everything read from the host and decided before the first write."""

    placed: list[Placed]
    head_sha: str
    summary_id: int | None
    head_note: str = ""
    stale_threads: list[Note] = field(default_factory=list)

    @property
    def new_inline(self) -> list[Placed]:
        return [p for p in self.placed if p.where is Where.INLINE and not p.already_posted]


@dataclass(frozen=True)
class Resolutions:
    """What resolving the threads of fixed findings did: how many the host resolved, how many
    it would not, and its first refusal (which names what the token lacks)."""

    resolved: int
    refused: int = 0
    refusal: ResolveRefused | None = None


@dataclass(frozen=True)
class Outcome:
    placed: list[Placed]
    review_id: int | None
    summary_id: int
    summary_created: bool
    summary: str
    fallback: bool = False
    posted_as: str | None = None  # the summary's author as the host reports it
    threads: Resolutions | None = None  # None: no thread was to be resolved

    def author_mismatch(self, author: str) -> str | None:
        """The real author when the host says we posted as someone else than we assumed."""
        if self.posted_as is None or self.posted_as.casefold() == author.casefold():
            return None
        return self.posted_as

    def count(self, where: Where, already: bool = False) -> int:
        return sum(1 for p in self.placed if p.where is where and p.already_posted is already)


def inline_comment(p: Placed, host: Host) -> InlineComment:
    first, last = line_span(p.finding)
    body = inline_body(p.finding, host.suggestion_fence(first, last))
    return InlineComment(p.finding.path, p.finding.side, first, last, body)


def authored_by(note: Note, login: str) -> bool:
    """Whether a note was written by `login` (account names ignore case on the hosts)."""
    return note.author is not None and note.author.casefold() == login.casefold()


def _posted_fingerprints(notes: list[Note]) -> dict[str, Where]:
    found: dict[str, Where] = {}
    # A host without review objects (GitLab) posts the fallback review body as a top-level
    # note: its trailer counts as a review body's. The summary carries no trailer.
    kinds = (
        (NoteKind.REVIEW, Where.REVIEW),
        (NoteKind.TOP, Where.REVIEW),
        (NoteKind.INLINE, Where.INLINE),
    )
    for kind, where in kinds:
        for note in notes:
            if note.kind is kind:
                for fp in marked_fingerprints(note.body):
                    found[fp] = where
    return found


def _head_note(document: FindingsDocument, head_sha: str, request: str) -> str:
    reviewed = document.head or ""
    if (
        not reviewed
        or not head_sha
        or head_sha.startswith(reviewed)
        or reviewed.startswith(head_sha)
    ):
        return ""
    return (
        f"The {request} has moved on since the review (reviewed {reviewed[:12]}, now "
        f"{head_sha[:12]}); only findings on lines of the current diff were commented inline."
    )


class Poster:
    def __init__(self, host: Host, author: str, min_severity: Severity | None = None) -> None:
        self.host = host
        self.author = author  # the account our comments are written by (post.identity)
        self.min_severity = min_severity  # --min-severity: lower findings only in the summary

    def plan(self, document: FindingsDocument) -> Plan:
        """Reads only: the change request, its diff, the notes already on it."""
        from reviewer.formats.sanitize import safe_marker_value

        request = self.host.change_request()
        # A fingerprint or a summary marker planted by someone else counts for nothing.
        notes = [n for n in self.host.notes() if authored_by(n, self.author)]
        posted = _posted_fingerprints(notes)
        # Markers hold the safe form of a fingerprint; compare in that form.
        already = {
            f.fingerprint: posted[safe_marker_value(f.fingerprint)]
            for f in document.findings
            if safe_marker_value(f.fingerprint) in posted
        }
        placed = place(
            sorted_findings(document.findings), request.files, already, self.min_severity
        )
        head = request.head_sha
        note = _head_note(document, head, self.host.request)
        # Only a review known to be of the current head says a finding is gone from it.
        of_head = bool(document.head and head) and not note
        can_resolve = self.host.can_resolve_threads and of_head
        stale = _stale_threads(document, notes) if can_resolve else []
        return Plan(placed, head, _find_summary(notes), note, stale)

    def apply(self, document: FindingsDocument, plan: Plan, updated_at: str) -> Outcome:
        """Writes, one at a time: the review (if anything new goes inline), the summary, then
        the threads of findings that are gone."""
        placed, review_id, fallback = plan.placed, None, False
        if plan.new_inline:
            refused: frozenset[int]
            try:
                result = self.host.create_review(
                    plan.head_sha,
                    review_body(),
                    [inline_comment(p, self.host) for p in plan.new_inline],
                )
                review_id, refused = result.review_id, result.refused
            except HostRefused:
                refused = frozenset(range(len(plan.new_inline)))
            if refused:
                fallback = True
                placed, fallback_id = self._fallback(plan, refused)
                review_id = review_id if review_id is not None else fallback_id
        body = summary_body(document, placed, updated_at=updated_at, head_note=plan.head_note)
        summary = self._upsert_summary(plan.summary_id, body)
        threads = self._resolve(plan.stale_threads) if plan.stale_threads else None
        created = plan.summary_id is None
        return Outcome(
            placed, review_id, summary.id, created, body, fallback, summary.author, threads
        )

    def _resolve(self, stale: list[Note]) -> Resolutions:
        """Each thread in turn. A refusal loses nothing (the review and the summary are
        posted): it is counted, and the first one kept for the warning."""
        refusals: list[ResolveRefused] = []
        for note in stale:
            try:
                self.host.resolve_thread(note)
            except ResolveRefused as e:
                refusals.append(e)
        first = refusals[0] if refusals else None
        return Resolutions(len(stale) - len(refusals), len(refusals), first)

    def _fallback(self, plan: Plan, refused: frozenset[int]) -> tuple[list[Placed], int | None]:
        """The host refused inline comments: post the same findings in a review body; anything
        that does not fit (or a second refusal) goes to the summary."""
        rejected = [p for i, p in enumerate(plan.new_inline) if i in refused]
        body, kept = fallback_review_body(rejected, self.host.name)
        kept_ids = {id(p) for p in kept}
        review_id: int | None = None
        try:
            review_id = self.host.create_review(plan.head_sha, body, []).review_id
        except HostRefused:
            kept_ids = set()
        moved = {id(p) for p in rejected}
        why = f"{self.host.name} refused the inline comment"
        return [_after_fallback(p, moved, kept_ids, why) for p in plan.placed], review_id

    def _upsert_summary(self, summary_id: int | None, body: str) -> Note:
        if summary_id is not None:
            return self.host.edit_note(summary_id, body)
        return self.host.create_note(body)


def _find_summary(ours: list[Note]) -> int | None:
    # A planted summary marker is neither edited (we could not) nor taken as ours.
    for note in ours:
        if note.kind is NoteKind.TOP and note.body.startswith(SUMMARY_MARKER):
            return note.id
    return None


def _stale_threads(document: FindingsDocument, ours: list[Note]) -> list[Note]:
    """Our open inline threads none of whose findings is in the document. Only after a complete
    review: a chunk that was not reviewed says nothing about whether its findings are fixed."""
    from reviewer.formats.sanitize import safe_marker_value

    if document.status is not Status.COMPLETE:
        return []
    current = {safe_marker_value(f.fingerprint) for f in document.findings}
    return [
        n
        for n in ours
        if n.kind is NoteKind.INLINE
        and not n.resolved
        and (fps := marked_fingerprints(n.body))
        and current.isdisjoint(fps)
    ]


def _after_fallback(p: Placed, moved: set[int], kept_ids: set[int], why: str) -> Placed:
    if id(p) not in moved:
        return p
    if id(p) in kept_ids:
        return replace(p, where=Where.REVIEW)
    return replace(p, where=Where.SUMMARY, reason=why)


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
