"""GitLab (API v4): the one module that knows its URLs and JSON shapes. GitLab's description for
the shared REST client (post.hosts.rest: auth, pagination, retries, errors) and GitLabHost, the
post.host interface on one merge request. GitLab has no review object: each inline comment is
its own diff discussion, placed with a position on the MR's latest version and its own diff;
a fixed finding's discussion is resolved; the verdict is a commit status on the head."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reviewer.errors import PostError, UsageError
from reviewer.formats.sanitize import plain_line
from reviewer.post.check import CheckRun
from reviewer.post.host import ChangeRequest, InlineComment, Note, NoteKind, ReviewResult
from reviewer.post.hosts.rest import HostApi, Refused, RestClient, RetryPolicy
from reviewer.post.placement import PatchLine, PullFiles, patch_hunks
from reviewer.post.target import Target
from reviewer.post.transport import Transport

GITLAB_API = HostApi(
    name="GitLab",
    # GitLab's documented header for personal, project and group access tokens.
    auth_headers=lambda token: {"PRIVATE-TOKEN": token},
    refused=frozenset({400}),  # GitLab validated the request and refused it (a bad position)
    hints={
        401: "check that REVIEWER_GITLAB_TOKEN (or GITLAB_TOKEN) holds a valid project, group "
        "or personal access token for this GitLab",
        403: "the token needs the `api` scope and at least the Reporter role to comment "
        "(Developer to resolve threads and set the commit status); CI_JOB_TOKEN cannot write "
        "merge request notes",
        404: "check --repo (the project's full path, CI_PROJECT_PATH) and --pr (the merge "
        "request's IID), and that the token's user can see the project",
    },
    url_hint="check --api-url / CI_API_V4_URL: it must be the API's root URL (…/api/v4)",
    request="merge request",
)

# GitLab applies a suggestion to at most 100 lines above the commented line
# (doc/user/project/merge_requests/reviews/suggestions.md, "Multi-line suggestions").
MAX_SUGGESTION_ABOVE = 100
# A commit status's description: "Must be 255 characters or fewer" (doc/api/commits.md).
MAX_DESCRIPTION = 255


@dataclass(frozen=True)
class Version:
    """The SHAs of the MR's latest diff version: what a diff note's position must name."""

    base_sha: str
    start_sha: str
    head_sha: str


@dataclass(frozen=True)
class DiffFile:
    """One file of a version's diff: its paths and hunks (None: GitLab shows no diff)."""

    old_path: str
    new_path: str
    patch: str | None


def project_ref(target: Target) -> str:
    """The project in a URL: its numeric id when known, else its URL-encoded full path."""
    if target.project_id is not None:
        return str(target.project_id)
    parts = target.repo.split("/")
    if len(parts) < 2 or any(p in ("", ".", "..") for p in parts):
        raise UsageError(
            f"not a GitLab project path: {target.repo!r}",
            hint="pass --repo GROUP/PROJECT (the project's full path, as CI_PROJECT_PATH)",
        )
    return quote(target.repo, safe="")


def mr_path(target: Target) -> str:
    return f"/projects/{project_ref(target)}/merge_requests/{target.number}"


def diff_file(item: Mapping[str, Any]) -> DiffFile:
    """A diff entry; binary, too large and collapsed files have no hunks to comment on."""
    text = item.get("diff")
    hidden = item.get("too_large") or item.get("collapsed")
    shown = isinstance(text, str) and text.startswith("@@") and not hidden
    new_path = str(item["new_path"])
    return DiffFile(str(item.get("old_path") or new_path), new_path, text if shown else None)


def pull_files(files: Iterable[DiffFile]) -> PullFiles:
    files_and_patches = ((f.new_path, f.patch) for f in files)
    return PullFiles.from_patches(files_and_patches, GITLAB_API.name, GITLAB_API.request)


def line_code(path: str, line: PatchLine) -> str:
    """GitLab's line code: the SHA-1 of the file's path, then the line's old and new numbers
    (doc/api/discussions.md, "Line code")."""
    digest = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()
    return f"{digest}_{line.old}_{line.new}"


def _anchor(line: PatchLine) -> dict[str, int]:
    """new_line alone on an added line, old_line alone on a removed one, both on an unchanged
    one (doc/api/discussions.md, "Create a new thread in the merge request diff")."""
    if line.kind == "+":
        return {"new_line": line.new}
    if line.kind == "-":
        return {"old_line": line.old}
    return {"old_line": line.old, "new_line": line.new}


def _span(patch: str, comment: InlineComment) -> tuple[PatchLine, PatchLine] | None:
    """The first and last diff lines of the comment's range, when one hunk holds all of it on
    the comment's side."""
    left = comment.side == "LEFT"
    wanted = range(comment.first, comment.last + 1)
    for hunk in patch_hunks(patch):
        side = {(ln.old if left else ln.new): ln for ln in hunk if (ln.kind == "-") == left}
        if all(n in side for n in wanted):
            return side[comment.first], side[comment.last]
    return None


def position(version: Version, f: DiffFile, comment: InlineComment) -> dict[str, Any] | None:
    """The diff note position GitLab places `comment` at on `version`'s diff, or None when the
    diff does not hold its lines. The note sits on the range's last line; a range adds
    `line_range` with the line codes of both ends (type `old` for removed lines)."""
    span = None if f.patch is None else _span(f.patch, comment)
    if span is None:
        return None
    first, last = span
    where: dict[str, Any] = {
        "position_type": "text",
        "base_sha": version.base_sha,
        "start_sha": version.start_sha,
        "head_sha": version.head_sha,
        "old_path": f.old_path,
        "new_path": f.new_path,
        **_anchor(last),
    }
    if comment.first < comment.last:
        kind = "old" if comment.side == "LEFT" else "new"
        where["line_range"] = {
            "start": {"line_code": line_code(f.new_path, first), "type": kind},
            "end": {"line_code": line_code(f.new_path, last), "type": kind},
        }
    return where


def status_body(run: CheckRun) -> dict[str, Any]:
    """A commit status for the verdict. GitLab has no neutral state: an incomplete review that
    LOCAL_LLM_OPTIONAL accepts is `success`, and its description (the check's title) says so."""
    return {
        "state": "failed" if run.conclusion == "failure" else "success",
        "name": run.name,
        "description": plain_line(run.title, MAX_DESCRIPTION),
    }


def _username(item: Mapping[str, Any]) -> str | None:
    author = item.get("author")
    name = author.get("username") if isinstance(author, dict) else None
    return name if isinstance(name, str) else None


def _note(item: Mapping[str, Any], kind: NoteKind, thread: str | None = None) -> Note:
    body = str(item.get("body") or "")
    resolved = bool(item.get("resolved"))
    return Note(int(item["id"]), kind, _username(item), body, resolved, thread)


def discussion_notes(discussion: Mapping[str, Any]) -> list[Note]:
    """A discussion's notes: diff notes are INLINE (in their thread), the rest TOP; system
    notes ("added 1 commit") are GitLab's own and never count."""
    thread = str(discussion.get("id") or "")
    found = []
    for item in discussion.get("notes") or []:
        if not isinstance(item, dict) or item.get("system"):
            continue
        kind = NoteKind.INLINE if item.get("type") == "DiffNote" else NoteKind.TOP
        found.append(_note(item, kind, thread or None))
    return found


class GitLabHost:
    """A merge request on GitLab, reached with a project, group or personal access token."""

    name = GITLAB_API.name
    request = GITLAB_API.request
    can_resolve_threads = True

    def __init__(self, client: RestClient, target: Target) -> None:
        self.client = client
        self.target = target
        self._mr = mr_path(target)
        self._version: Version | None = None
        self._files: dict[str, DiffFile] = {}

    def change_request(self) -> ChangeRequest:
        """The MR's head, and its latest diff version (the first GitLab lists) with that
        version's own diff: positions name the version's SHAs, so they must match its diff."""
        mr = self.client.get(self._mr)
        versions = self.client.get(self._mr + "/versions")
        if not isinstance(versions, list) or not versions:
            raise PostError(f"GitLab lists no diff version for merge request !{self.target.number}")
        try:
            latest = versions[0]
            version = Version(
                str(latest["base_commit_sha"]),
                str(latest["start_commit_sha"]),
                str(latest["head_commit_sha"]),
            )
            full = self.client.get(f"{self._mr}/versions/{int(latest['id'])}")
            files = [diff_file(d) for d in full.get("diffs") or []]
            head = str(mr.get("sha") or version.head_sha)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise PostError(
                f"GitLab answered merge request !{self.target.number}'s versions in a shape "
                f"it does not use ({type(e).__name__}: {e})",
                hint=GITLAB_API.url_hint,
            ) from None
        self._version, self._files = version, {f.new_path: f for f in files}
        return ChangeRequest(head, version.base_sha, pull_files(files))

    def suggestion_fence(self, first: int, last: int) -> str | None:
        """GitLab's suggestion replaces lines relative to the one the note is on, the range's
        last: `-N+0` covers the N lines above it too."""
        above = last - first
        return f"suggestion:-{above}+0" if above <= MAX_SUGGESTION_ABOVE else None

    def notes(self) -> list[Note]:
        found: list[Note] = []
        for discussion in self.client.paginate(self._mr + "/discussions"):
            found.extend(discussion_notes(discussion))
        return found

    def identity(self) -> str | None:
        """`GET /user`: a project or group access token is a bot user (project_<id>_bot_…)
        and answers with its own username."""
        user = self.client.get("/user")
        name = user.get("username") if isinstance(user, dict) else None
        return name if isinstance(name, str) and name else None

    def create_review(
        self, head_sha: str, body: str, comments: Sequence[InlineComment]
    ) -> ReviewResult:
        """One diff discussion per comment; a comment GitLab refuses (400) is reported and the
        others still post. `body` is posted (as a note) only when there are no comments: the
        poster's fallback, so a normal run adds no "left N comments" note on every push."""
        if not comments:
            return ReviewResult(self.create_note(body).id)
        refused: set[int] = set()
        first_id: int | None = None
        for i, comment in enumerate(comments):
            created = self._discussion(comment)
            if created is None:
                refused.add(i)
            elif first_id is None:
                first_id = created
        return ReviewResult(first_id, frozenset(refused))

    def _discussion(self, comment: InlineComment) -> int | None:
        """The new discussion's first note id, or None when GitLab would not or did not place
        it."""
        f = self._files.get(comment.path)
        where = None if f is None or self._version is None else position(self._version, f, comment)
        if where is None:
            return None
        try:
            created = self.client.post(
                self._mr + "/discussions", {"body": comment.body, "position": where}
            )
        except Refused:
            return None
        return int(created["notes"][0]["id"])

    def create_note(self, body: str) -> Note:
        created = self.client.post(self._mr + "/notes", {"body": body})
        return _note(created, NoteKind.TOP)

    def edit_note(self, note_id: int, body: str) -> Note:
        edited = self.client.put(f"{self._mr}/notes/{note_id}", {"body": body})
        return Note(note_id, NoteKind.TOP, _username(edited), body)

    def resolve_thread(self, note: Note) -> None:
        if note.thread is None:
            raise PostError(f"GitLab note {note.id} is in no discussion to resolve")
        self.client.put(f"{self._mr}/discussions/{quote(note.thread, safe='')}", {"resolved": True})

    def set_status(self, status: CheckRun) -> None:
        """A commit status named after the check on the head: a failed one fails the pipeline
        it joins, which blocks the merge under "Pipelines must succeed"; success lets it."""
        self.client.post_gate(
            f"/projects/{project_ref(self.target)}/statuses/{status.head_sha}",
            status_body(status),
            what="set the commit status",
            hint="the token needs the `api` scope and at least the Developer role on the "
            "project; or pass --no-check-run",
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
) -> GitLabHost:
    """The merge request `target` names, on GitLab (post.hosts.open_host calls this)."""
    client = RestClient(
        target.api_url, token, GITLAB_API, policy=policy, sleep=sleep, transport=transport
    )
    return GitLabHost(client, target)
