"""The one interface between the poster and a code host (GitHub today; GitLab and Gitea next),
in the host's neutral terms: the change request under review, the notes already on it, who we
post as, and the few writes a review needs. A host module is the only place that knows its
URLs and JSON shapes; placement, bodies, the summary and de-duplication stay in the poster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from reviewer.errors import PostError
from reviewer.post.check import CheckRun
from reviewer.post.placement import PullFiles


class HostForbidden(PostError):
    """The host refused the token (a read-only one: a fork's pull request). The poster may fall
    back to printing annotations (--annotations-fallback)."""


class HostRefused(PostError):
    """The host validated a write and refused it (a comment off its current diff): the poster
    falls back to the summary, so nothing is lost."""


class ResolveRefused(PostError):
    """The host would not resolve a thread (the token lacks a permission for it): the review
    and the summary are already posted, so the poster counts it, warns once and carries on."""


@dataclass(frozen=True)
class ChangeRequest:
    """The pull or merge request as the host sees it now: its head and base commits ("" when
    the host does not say) and its current diff, which alone decides what may go inline."""

    head_sha: str
    base_sha: str
    files: PullFiles


class NoteKind(Enum):
    INLINE = "inline"  # a comment on a line of the diff (a thread the host may resolve)
    REVIEW = "review"  # the body of a review
    TOP = "top"  # a note on the change request itself (where our summary lives)


@dataclass(frozen=True)
class Note:
    """A comment already on the change request. `author` is the host's own account name (None
    when it does not say): only notes by the poster's identity count as ours."""

    id: int
    kind: NoteKind
    author: str | None
    body: str
    resolved: bool = False
    thread: str | None = None  # the host's id of the thread an inline note starts, if it has one


@dataclass(frozen=True)
class InlineComment:
    """One inline comment: `first`..`last` are new-file line numbers on side RIGHT, old-file
    numbers of removed lines on side LEFT (a range stays on one side)."""

    path: str
    side: str
    first: int
    last: int
    body: str


@dataclass(frozen=True)
class ReviewResult:
    """What a review write did: its id (None when nothing was created) and the indices of the
    comments the host refused, which the poster moves to the summary."""

    review_id: int | None
    refused: frozenset[int] = frozenset()


class Host(Protocol):
    """One change request on one host, reached with one token."""

    name: str  # the host's name in messages: "GitHub"
    request: str  # its word for the change request in messages: "pull request", "merge request"
    can_resolve_threads: bool  # whether resolve_thread does anything

    def change_request(self) -> ChangeRequest: ...

    def notes(self) -> list[Note]:
        """Every inline comment, review body and top-level note, with its author."""
        ...

    def suggestion_fence(self, first: int, last: int) -> str | None:
        """The info string of a code fence the host applies to lines first..last of the head
        (GitHub: `suggestion`), or None when it cannot apply suggestions (shown as plain code)."""
        ...

    def identity(self) -> str | None:
        """The account the token posts as, or None when the host does not say."""
        ...

    def create_review(
        self, head_sha: str, body: str, comments: Sequence[InlineComment]
    ) -> ReviewResult:
        """Post `body` and `comments` (GitHub: one review). Raises HostRefused when the host
        refuses the whole write; reports single refused comments in the result."""
        ...

    def create_note(self, body: str) -> Note: ...

    def edit_note(self, note_id: int, body: str) -> Note: ...

    def resolve_thread(self, note: Note) -> None:
        """Resolve the thread an inline note of ours started (only if can_resolve_threads).
        Raises ResolveRefused when the host will not, with a hint naming what it needs."""
        ...

    def set_status(self, status: CheckRun) -> None:
        """Set the verdict on the head commit (GitHub: a check run) for branch protection."""
        ...

    def close(self) -> None: ...
