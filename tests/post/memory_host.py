"""An in-memory change request implementing post.host.Host, to test the shared poster without
any host's URLs or JSON. It keeps a host's rules: a comment off the current diff is refused
(the whole review, as GitHub does, or that comment alone, as GitLab does), only the author of a
note may edit it, and a status is set on a commit. Its diff rule is unidiff's, not the poster's
placement code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from reviewer.errors import PostError
from reviewer.post.check import CheckRun
from reviewer.post.host import (
    ChangeRequest,
    HostForbidden,
    HostRefused,
    InlineComment,
    Note,
    NoteKind,
    ResolveRefused,
    ReviewResult,
)
from reviewer.post.placement import PullFiles
from tests.post.github_fake import commentable

HEAD = "c0ffee" * 6 + "beef"


@dataclass
class MemoryHost:
    patches: dict[str, str | None]
    head_sha: str = HEAD
    base_sha: str = "b" * 40
    login: str | None = "reviewer-bot"  # what identity() says (None: the host does not say)
    writes_as: str = "reviewer-bot"  # who our writes are really authored by
    name: str = "Memory"
    request: str = "pull request"
    can_resolve_threads: bool = True
    whole_review: bool = True  # refuse the whole review for one bad comment (GitHub's rule)
    patches_at_post: dict[str, str | None] | None = None  # the diff moved between read and write
    refuse_body_reviews: bool = False  # refuse a review without comments too
    review_bodies: bool = True  # False: a review without comments is a top-level note (GitLab)
    forbidden: bool = False  # every write refused, like a fork's read-only token
    refuse_resolving: frozenset[int] = frozenset()  # notes whose threads the token may not resolve
    stored: list[Note] = field(default_factory=list)
    reviews: list[tuple[str, str, list[InlineComment]]] = field(default_factory=list)
    statuses: list[CheckRun] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    closed: bool = False
    _next_id: int = 100

    # --- helpers for tests -----------------------------------------------------------------

    def add_note(self, kind: NoteKind, body: str, author: str = "a-human") -> Note:
        note = Note(self._id(), kind, author, body)
        self.stored.append(note)
        return note

    def ours(self, kind: NoteKind) -> list[Note]:
        return [n for n in self.stored if n.kind is kind and n.author == self.writes_as]

    def note(self, note_id: int) -> Note:
        return next(n for n in self.stored if n.id == note_id)

    # --- the interface -----------------------------------------------------------------------

    def change_request(self) -> ChangeRequest:
        return ChangeRequest(self.head_sha, self.base_sha, PullFiles.from_patches(self.patches.items()))

    def notes(self) -> list[Note]:
        return list(self.stored)

    def suggestion_fence(self, first: int, last: int) -> str | None:
        return "suggestion"

    def identity(self) -> str | None:
        return self.login

    def create_review(self, head_sha: str, body: str, comments: Sequence[InlineComment]) -> ReviewResult:
        self._write("review")
        refused = frozenset(i for i, c in enumerate(comments) if not self._on_diff(c))
        if (refused and self.whole_review) or (not comments and self.refuse_body_reviews):
            raise HostRefused(f"{self.name} refused the review")
        accepted = [c for i, c in enumerate(comments) if i not in refused]
        if not accepted and comments:
            return ReviewResult(None, refused)
        self.reviews.append((head_sha, body, accepted))
        kind = NoteKind.REVIEW if self.review_bodies or comments else NoteKind.TOP
        review = self.add_note(kind, body, self.writes_as)
        for c in accepted:
            self.add_note(NoteKind.INLINE, c.body, self.writes_as)
        return ReviewResult(review.id, refused)

    def create_note(self, body: str) -> Note:
        self._write("note")
        return self.add_note(NoteKind.TOP, body, self.writes_as)

    def edit_note(self, note_id: int, body: str) -> Note:
        self._write(f"edit {note_id}")
        old = self.note(note_id)
        if old.author != self.writes_as:
            raise PostError(f"{self.name} refused to edit note {note_id}: not its author")
        new = replace(old, body=body)
        self.stored[self.stored.index(old)] = new
        return new

    def resolve_thread(self, note: Note) -> None:
        assert self.can_resolve_threads, "resolve_thread called on a host that cannot"
        if note.id in self.refuse_resolving:
            raise ResolveRefused(f"{self.name} refused to resolve thread {note.id}", hint="grant it")
        self._write(f"resolve {note.id}")
        old = self.note(note.id)
        self.stored[self.stored.index(old)] = replace(old, resolved=True)

    def set_status(self, status: CheckRun) -> None:
        self._write("status")
        self.statuses.append(status)

    def close(self) -> None:
        self.closed = True

    # --- the host's rules ----------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _write(self, what: str) -> None:
        if self.forbidden:
            raise HostForbidden(f"{self.name} refused the write (403)")
        self.writes.append(what)

    def _on_diff(self, comment: InlineComment) -> bool:
        patches = self.patches if self.patches_at_post is None else self.patches_at_post
        patch = patches.get(comment.path)
        if not patch:
            return False
        wanted = set(range(comment.first, comment.last + 1))
        return any(wanted <= hunk for hunk in commentable(patch, comment.side))
