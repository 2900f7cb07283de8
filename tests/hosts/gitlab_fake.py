"""A fake GitLab REST API v4 on pytest-httpserver, for the GitLab poster's tests: one project
and one merge request whose diff comes from real `git diff` output, GitLab's token headers,
page/per_page pagination with X-Next-Page, X-Total and Link, discussions that GitLab only
accepts on a line of the MR's latest diff (400 otherwise), resolving, notes only their author
may edit, commit statuses, rate limits and server errors on demand. Every request body is
validated against ../shared/specs/gitlab-rest-subset.json, and so is every JSON response.

Approximated, each on the strict side: every misplaced position gets the one `line_code`
message GitLab users report (GitLab words some cases differently); a position on an older
version's SHAs is refused (GitLab may place it on that version, outdated); only
`position_type: text` is modelled; a CI job token may only read. Where GitLab and its spec
differ the fake follows GitLab: a POST answers 201, a DELETE 204."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.hosts.diff_model import DiffFile, DiffLine, parse
from tests.hosts.fake_host import FakeHost, json_response, made_up_sha

SPEC_NAME = "gitlab-rest-subset.json"
TOKEN = "glpat-faketoken000000000000"
JOB_TOKEN = "glcbt-fakejobtoken0000000000"
PREFIX = "/api/v4"
MR = "/projects/{id}/merge_requests/{merge_request_iid}"
NOW = "2024-01-01T00:00:00.000Z"
# GitLab's answer to a position it cannot place (from GitLab users' reports of the API):
LINE_CODE_ERROR = (
    '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"]}'
)

# (method, pattern after /projects/:id/merge_requests/:iid, template suffix)
MR_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), t)
    for m, p, t in [
        ("GET", r"$", ""),
        ("GET", r"/changes$", "/changes"),
        ("GET", r"/diffs$", "/diffs"),
        ("GET", r"/raw_diffs$", "/raw_diffs"),
        ("GET", r"/versions$", "/versions"),
        ("GET", r"/versions/(\d+)$", "/versions/{version_id}"),
        ("GET", r"/discussions$", "/discussions"),
        ("POST", r"/discussions$", "/discussions"),
        ("GET", r"/discussions/(\w+)$", "/discussions/{discussion_id}"),
        ("PUT", r"/discussions/(\w+)$", "/discussions/{discussion_id}"),
        ("POST", r"/discussions/(\w+)/notes$", "/discussions/{discussion_id}/notes"),
        ("GET", r"/discussions/(\w+)/notes/(\d+)$", "/discussions/{discussion_id}/notes/{note_id}"),
        ("PUT", r"/discussions/(\w+)/notes/(\d+)$", "/discussions/{discussion_id}/notes/{note_id}"),
        (
            "DELETE",
            r"/discussions/(\w+)/notes/(\d+)$",
            "/discussions/{discussion_id}/notes/{note_id}",
        ),
        ("GET", r"/notes$", "/notes"),
        ("POST", r"/notes$", "/notes"),
        ("GET", r"/notes/(\d+)$", "/notes/{note_id}"),
        ("PUT", r"/notes/(\d+)$", "/notes/{note_id}"),
        ("DELETE", r"/notes/(\d+)$", "/notes/{note_id}"),
    ]
]
MR_PATH = re.compile(r"^/projects/([^/]+)/merge_requests/(\d+)(/.*)?$")
STATUS_PATH = re.compile(r"^/projects/([^/]+)/statuses/(\w+)$")


@dataclass
class Version:
    """One entry of the MR's versions (a push makes a new one): its SHAs and its diff."""

    id: int
    base_sha: str
    start_sha: str
    head_sha: str
    files: list[DiffFile]
    diff_text: str


@dataclass
class FakeGitLab(FakeHost):
    server: HTTPServer
    project_id: int = 42
    project_path: str = "group/app"
    iid: int = 7
    versions: list[Version] = field(default_factory=list)  # newest first, as GitLab lists them
    discussions: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    username: str = "reviewer-bot"  # who TOKEN is (a project access token's bot user)
    max_per_page: int = 100

    def __post_init__(self) -> None:
        self.spec_name, self.next_id = SPEC_NAME, 1000
        self.serve(self.server)

    @property
    def url(self) -> str:
        """The API base a client is given (GitLab CI's CI_API_V4_URL)."""
        return self.server.url_for("").rstrip("/") + PREFIX

    # --- helpers for tests ----------------------------------------------------------------

    def push(
        self, diff_text: str, base_sha: str | None = None, head_sha: str | None = None
    ) -> Version:
        """A new version of the MR (what a push does), with this `git diff` as its diff."""
        n = len(self.versions) + 1
        base = base_sha or made_up_sha(f"base{n}")
        version = Version(
            self._id(), base, base, head_sha or made_up_sha(f"head{n}"), parse(diff_text), diff_text
        )
        self.versions.insert(0, version)
        return version

    @property
    def latest(self) -> Version:
        return self.versions[0]

    def add_note(self, body: str, author: str = "a-human", system: bool = False) -> dict[str, Any]:
        """A human's (or the system's) comment on the MR, in its own individual discussion."""
        note = self._note(body, author, None)
        note["system"] = system
        self.discussions.append(self._discussion([note], individual=True))
        return note

    def notes(self) -> list[dict[str, Any]]:
        return [n for d in self.discussions for n in d["notes"]]

    def diff_discussions(self) -> list[dict[str, Any]]:
        return [d for d in self.discussions if d["notes"][0]["type"] == "DiffNote"]

    # --- the fake API ----------------------------------------------------------------------

    def _user(self, username: str) -> dict[str, Any]:
        return {
            "id": 1 if username == self.username else 2 + len(username),
            "username": username,
            "name": username,
            "state": "active",
            "locked": False,
            "avatar_url": f"https://gitlab.example/uploads/{username}.png",
            "web_url": f"https://gitlab.example/{username}",
        }

    def respond(self, request: Request, body: Any, error: str | None) -> Response:
        # Route on the path as sent: a project path must be URL-encoded (`group%2Fapp`).
        raw = request.environ.get("RAW_URI", request.path).split("?", 1)[0]
        if not raw.startswith(PREFIX + "/"):
            return json_response({"error": "404 Not Found"}, 404)
        path = raw[len(PREFIX) :]
        job = request.headers.get("JOB-TOKEN") == JOB_TOKEN
        bearer = request.headers.get("Authorization") == f"Bearer {TOKEN}"
        if not (job or bearer or request.headers.get("PRIVATE-TOKEN") == TOKEN):
            return json_response({"message": "401 Unauthorized"}, 401)
        fault = self.fault()
        if fault is not None:
            return fault
        # A CI job token reaches only a few job APIs; notes, discussions, statuses and the
        # user endpoint are not among them.
        if job and (request.method != "GET" or path == "/user"):
            return json_response({"message": "403 Forbidden"}, 403)
        if error is not None:
            self.schema_errors.append(f"{request.method} {path}: {error}")
            return json_response({"error": error}, 400)
        if path == "/user" and request.method == "GET":
            return self.answer("/user", "GET", {**self._user(self.username), "bot": True})
        status = STATUS_PATH.match(path)
        if status and request.method == "POST":
            if not self._project(status.group(1)):
                return json_response({"message": "404 Project Not Found"}, 404)
            return self._with_body("/projects/{id}/statuses/{sha}", "POST", body, status.group(2))
        m = MR_PATH.match(path)
        if not m or not self._project(m.group(1)):
            return json_response({"message": "404 Project Not Found"}, 404)
        if int(m.group(2)) != self.iid or not self.versions:
            return json_response({"message": "404 Not found"}, 404)
        for method, pattern, suffix in MR_ROUTES:
            found = pattern.match(m.group(3) or "")
            if found and method == request.method:
                return self._with_body(MR + suffix, method, body, *found.groups(), request=request)
        return json_response({"error": "404 Not Found"}, 404)

    def _project(self, given: str) -> bool:
        return unquote(given) in (str(self.project_id), self.project_path) and "/" not in given

    def _with_body(
        self, template: str, method: str, body: Any, *args: str, request: Request | None = None
    ) -> Response:
        """Check the body against the spec before the handler sees it: a body that does not
        match is a poster bug, recorded for the test and answered 400 as Grape would."""
        if method in ("POST", "PUT"):
            found = self.body_problems(template, method, body)
            if found:
                return json_response({"error": found[0]}, 400)
        handler = HANDLERS[(method, template)]
        return handler(self, body, request, *args)

    def _page(self, template: str, request: Request | None, items: list[Any]) -> Response:
        """GitLab's offset pagination: X-Page, X-Per-Page, X-Total, X-Total-Pages, X-Next-Page,
        X-Prev-Page (empty when there is none) and a Link header with prev/next/first/last."""
        assert request is not None
        per_page = max(1, min(int(request.args.get("per_page", 20)), self.max_per_page))
        page = max(1, int(request.args.get("page", 1)))
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        base = (
            self.url
            + request.environ.get("RAW_URI", request.path).split("?", 1)[0][len(PREFIX) :]
            + "?"
        )

        def link(n: int, rel: str) -> str:
            return f'<{base}{urlencode({"page": n, "per_page": per_page})}>; rel="{rel}"'

        links = ([link(page - 1, "prev")] if page > 1 else []) + (
            [link(page + 1, "next")] if page < pages else []
        )
        links += [link(1, "first"), link(pages, "last")]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(len(items)),
            "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "Link": ", ".join(links),
        }
        return self.answer(template, "GET", chunk, 200, headers)

    # --- merge request, versions, diffs ----------------------------------------------------

    def _mr(self) -> dict[str, Any]:
        v = self.latest
        return {
            "id": 500 + self.iid,
            "iid": self.iid,
            "project_id": self.project_id,
            "title": "A change",
            "description": "",
            "state": "opened",
            "created_at": NOW,
            "updated_at": NOW,
            "merged_by": None,
            "merged_at": None,
            "target_branch": "main",
            "source_branch": "feature",
            "author": self._user("a-human"),
            "source_project_id": self.project_id,
            "target_project_id": self.project_id,
            "draft": False,
            "sha": v.head_sha,
            "merge_commit_sha": None,
            "diff_refs": {"base_sha": v.base_sha, "head_sha": v.head_sha, "start_sha": v.start_sha},
            "web_url": f"https://gitlab.example/{self.project_path}/-/merge_requests/{self.iid}",
        }

    def _diff(self, f: DiffFile) -> dict[str, Any]:
        return {
            "diff": f.hunks_text,
            "collapsed": False,
            "too_large": False,
            "new_path": f.new_path,
            "old_path": f.old_path,
            "a_mode": "100644",
            "b_mode": "100644",
            "new_file": f.status == "added",
            "renamed_file": f.status == "renamed",
            "deleted_file": f.status == "deleted",
            "generated_file": False,
        }

    def _version(self, v: Version) -> dict[str, Any]:
        return {
            "id": v.id,
            "head_commit_sha": v.head_sha,
            "base_commit_sha": v.base_sha,
            "start_commit_sha": v.start_sha,
            "created_at": NOW,
            "merge_request_id": 500 + self.iid,
            "state": "collected",
            "real_size": str(len(v.files)),
        }

    def _get_mr(self, body: Any, request: Request | None) -> Response:
        return self.answer(MR, "GET", self._mr())

    def _get_changes(self, body: Any, request: Request | None) -> Response:
        data = {
            **self._mr(),
            "changes": [self._diff(f) for f in self.latest.files],
            "overflow": False,
        }
        return self.answer(MR + "/changes", "GET", data)

    def _get_diffs(self, body: Any, request: Request | None) -> Response:
        return self._page(MR + "/diffs", request, [self._diff(f) for f in self.latest.files])

    def _get_raw_diffs(self, body: Any, request: Request | None) -> Response:
        return Response(self.latest.diff_text, status=200, content_type="text/plain")

    def _get_versions(self, body: Any, request: Request | None) -> Response:
        return self.answer(MR + "/versions", "GET", [self._version(v) for v in self.versions])

    def _get_version(self, body: Any, request: Request | None, version_id: str) -> Response:
        for v in self.versions:
            if v.id == int(version_id):
                data = {
                    **self._version(v),
                    "commits": [],
                    "diffs": [self._diff(f) for f in v.files],
                }
                return self.answer(MR + "/versions/{version_id}", "GET", data)
        return json_response({"message": "404 Not found"}, 404)

    # --- discussions and notes ---------------------------------------------------------------

    def _note(
        self, body: str, author: str, position: dict[str, Any] | None, kind: str | None = None
    ) -> dict[str, Any]:
        """A note as GitLab's Note entity shows it: `position` only on a DiffNote, `resolved*`
        only on a resolvable note (a thread's note; an individual comment is not)."""
        note: dict[str, Any] = {
            "id": self._id(),
            "type": kind,
            "body": body,
            "author": self._user(author),
            "created_at": NOW,
            "updated_at": NOW,
            "system": False,
            "noteable_id": 500 + self.iid,
            "noteable_type": "MergeRequest",
            "project_id": self.project_id,
            "resolvable": kind is not None,
            "confidential": False,
            "internal": False,
            "noteable_iid": self.iid,
            "suggestions": [],
        }
        if position is not None:
            note["position"] = position
        if kind is not None:
            note.update(resolved=False, resolved_by=None, resolved_at=None)
        return note

    def _discussion(self, notes: list[dict[str, Any]], individual: bool) -> dict[str, Any]:
        resolvable = any(n["resolvable"] for n in notes)
        discussion = {
            "id": made_up_sha(f"discussion{self._id()}"),
            "individual_note": individual,
            "resolvable": resolvable,
            "notes": notes,
        }
        if resolvable:
            discussion["resolved"] = False
        return discussion

    def _find(self, discussion_id: str) -> dict[str, Any] | None:
        return next((d for d in self.discussions if d["id"] == discussion_id), None)

    def _find_note(self, note_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for d in self.discussions:
            for n in d["notes"]:
                if n["id"] == int(note_id):
                    return d, n
        return None

    def _list_discussions(self, body: Any, request: Request | None) -> Response:
        return self._page(MR + "/discussions", request, self.discussions)

    def _create_discussion(self, body: dict[str, Any], request: Request | None) -> Response:
        position = body.get("position")
        if position is None:
            note = self._note(body["body"], self.username, None, "DiscussionNote")
        else:
            refused = self._refuse_position(position)
            if refused is not None:
                return json_response({"message": refused}, 400)
            note = self._note(body["body"], self.username, _stored_position(position), "DiffNote")
        discussion = self._discussion([note], individual=False)
        self.discussions.append(discussion)
        return self.answer(MR + "/discussions", "POST", discussion, 201)

    def _refuse_position(self, p: dict[str, Any]) -> str | None:
        """Why GitLab would not place this diff note, or None. GitLab answers every case with
        the same line_code message; the fake's other messages name the rule for the test."""
        v = self.latest
        if p.get("position_type") != "text":
            return "400 Bad request - position_type other than text is not modelled by the fake"
        if (p.get("base_sha"), p.get("start_sha"), p.get("head_sha")) != (
            v.base_sha,
            v.start_sha,
            v.head_sha,
        ):
            return LINE_CODE_ERROR
        f = next(
            (
                f
                for f in v.files
                if (f.old_path, f.new_path) == (p.get("old_path"), p.get("new_path"))
            ),
            None,
        )
        if f is None:
            return LINE_CODE_ERROR
        end = _line_at(f, p.get("old_line"), p.get("new_line"))
        if end is None:
            return LINE_CODE_ERROR
        if p.get("line_range") is not None and not _range_ok(f, p["line_range"], end):
            return LINE_CODE_ERROR
        return None

    def _resolve(
        self, body: dict[str, Any], request: Request | None, discussion_id: str
    ) -> Response:
        d = self._find(discussion_id)
        if d is None:
            return json_response({"message": "404 Not found"}, 404)
        if not d["resolvable"]:
            return json_response({"message": "403 Forbidden"}, 403)
        for n in d["notes"]:
            n.update(
                resolved=body["resolved"],
                resolved_by=self._user(self.username) if body["resolved"] else None,
                resolved_at=NOW if body["resolved"] else None,
            )
        d["resolved"] = body["resolved"]
        return self.answer(MR + "/discussions/{discussion_id}", "PUT", d)

    def _get_discussion(self, body: Any, request: Request | None, discussion_id: str) -> Response:
        d = self._find(discussion_id)
        if d is None:
            return json_response({"message": "404 Not found"}, 404)
        return self.answer(MR + "/discussions/{discussion_id}", "GET", d)

    def _reply(self, body: dict[str, Any], request: Request | None, discussion_id: str) -> Response:
        d = self._find(discussion_id)
        if d is None:
            return json_response({"message": "404 Not found"}, 404)
        kind = "DiffNote" if d["notes"][0]["type"] == "DiffNote" else "DiscussionNote"
        note = self._note(body["body"], self.username, d["notes"][0].get("position"), kind)
        d["notes"].append(note)
        return self.answer(MR + "/discussions/{discussion_id}/notes", "POST", note, 201)

    def _discussion_note(
        self, method: str, body: Any, discussion_id: str, note_id: str
    ) -> Response:
        template = MR + "/discussions/{discussion_id}/notes/{note_id}"
        d = self._find(discussion_id)
        found = self._find_note(note_id)
        if d is None or found is None or found[0] is not d:
            return json_response({"message": "404 Not found"}, 404)
        if method == "GET":
            return self.answer(template, "GET", found[1])
        if body is not None and ("body" in body) == ("resolved" in body):
            return json_response(
                {
                    "error": "body, resolved are mutually exclusive, exactly one parameter must be provided"
                },
                400,
            )
        if body is not None and "resolved" in body:
            self._resolve({"resolved": body["resolved"]}, None, discussion_id)
            return self.answer(template, method, found[1])
        return self._edit(template, method, body, found)

    def _list_notes(self, body: Any, request: Request | None) -> Response:
        assert request is not None
        key = request.args.get("order_by", "created_at")
        notes = sorted(
            self.notes(),
            key=lambda n: (n[key], n["id"]),
            reverse=request.args.get("sort", "desc") == "desc",
        )
        return self._page(MR + "/notes", request, notes)

    def _create_note(self, body: dict[str, Any], request: Request | None) -> Response:
        note = self._note(body["body"], self.username, None)
        self.discussions.append(self._discussion([note], individual=True))
        return self.answer(MR + "/notes", "POST", note, 201)

    def _note_by_id(self, method: str, body: Any, note_id: str) -> Response:
        found = self._find_note(note_id)
        if found is None:
            return json_response({"message": "404 Not found"}, 404)
        if method == "GET":
            return self.answer(MR + "/notes/{note_id}", "GET", found[1])
        return self._edit(MR + "/notes/{note_id}", method, body, found)

    def _edit(
        self, template: str, method: str, body: Any, found: tuple[dict[str, Any], dict[str, Any]]
    ) -> Response:
        """PUT or DELETE a note: only its author may (GitLab answers others 403)."""
        discussion, note = found
        if note["author"]["username"] != self.username:
            return json_response({"message": "403 Forbidden"}, 403)
        if method == "DELETE":  # GitLab answers 204, though the spec documents a 200
            discussion["notes"].remove(note)
            if not discussion["notes"]:
                self.discussions.remove(discussion)
            return Response(status=204)
        if body is None or body.get("body") is None:
            return json_response({"error": "body is missing"}, 400)
        note.update(body=body["body"], updated_at="2024-01-02T00:00:00.000Z")
        return self.answer(template, method, note)

    # --- commit statuses -----------------------------------------------------------------

    def _set_status(self, body: dict[str, Any], request: Request | None, sha: str) -> Response:
        if all(v.head_sha != sha for v in self.versions):
            return json_response({"message": "404 References for commit Not Found"}, 404)
        name = body.get("name") or body.get("context") or "default"
        status = {
            "id": self._id(),
            "sha": sha,
            "ref": body.get("ref") or "feature",
            "status": body["state"],
            "name": name,
            "target_url": body.get("target_url"),
            "description": body.get("description"),
            "created_at": NOW,
            "started_at": None,
            "finished_at": None,
            "allow_failure": False,
            "coverage": None,
            "pipeline_id": None,
            "author": self._user(self.username),
        }
        self.statuses.append(status)
        # Grape answers a POST 201; the spec documents the entity under 200.
        return self.answer("/projects/{id}/statuses/{sha}", "POST", status, 201, schema_status=200)


def _line_at(f: DiffFile, old_line: Any, new_line: Any) -> DiffLine | None:
    """The diff line a position names: new_line alone for an added line, old_line alone for a
    removed one, both (and matching) for an unchanged context line."""
    for line in f.lines:
        if line.old == old_line and line.new == new_line:
            return line
    return None


def _range_ok(f: DiffFile, line_range: dict[str, Any], end: DiffLine) -> bool:
    """A multi-line note: start and end are line codes of this file's diff (with the right
    type), start not after end, and the end is the line the position names."""
    codes = {f.line_code(line): i for i, line in enumerate(f.lines)}
    ends = []
    for key in ("start", "end"):
        point = line_range[key]
        index = codes.get(point["line_code"])
        if index is None:
            return False
        kind = f.lines[index].kind
        if point["type"] != ("old" if kind == "removed" else "new"):
            return False
        ends.append(index)
    return ends[0] <= ends[1] and f.lines[ends[1]] == end


def _stored_position(p: dict[str, Any]) -> dict[str, Any]:
    """The position as GitLab returns it on the note (DiffNotePosition): every field present,
    null where the request had none."""
    keys = (
        "base_sha",
        "start_sha",
        "head_sha",
        "old_path",
        "new_path",
        "position_type",
        "old_line",
        "new_line",
        "line_range",
    )
    return {k: p.get(k) for k in keys}


def _discussion_note_get(
    fake: FakeGitLab, body: Any, request: Request | None, d: str, n: str
) -> Response:
    return fake._discussion_note("GET", body, d, n)


def _discussion_note_put(
    fake: FakeGitLab, body: Any, request: Request | None, d: str, n: str
) -> Response:
    return fake._discussion_note("PUT", body, d, n)


def _discussion_note_delete(
    fake: FakeGitLab, body: Any, request: Request | None, d: str, n: str
) -> Response:
    return fake._discussion_note("DELETE", body, d, n)


HANDLERS: dict[tuple[str, str], Any] = {
    ("GET", MR): FakeGitLab._get_mr,
    ("GET", MR + "/changes"): FakeGitLab._get_changes,
    ("GET", MR + "/diffs"): FakeGitLab._get_diffs,
    ("GET", MR + "/raw_diffs"): FakeGitLab._get_raw_diffs,
    ("GET", MR + "/versions"): FakeGitLab._get_versions,
    ("GET", MR + "/versions/{version_id}"): FakeGitLab._get_version,
    ("GET", MR + "/discussions"): FakeGitLab._list_discussions,
    ("POST", MR + "/discussions"): FakeGitLab._create_discussion,
    ("GET", MR + "/discussions/{discussion_id}"): FakeGitLab._get_discussion,
    ("PUT", MR + "/discussions/{discussion_id}"): FakeGitLab._resolve,
    ("POST", MR + "/discussions/{discussion_id}/notes"): FakeGitLab._reply,
    ("GET", MR + "/discussions/{discussion_id}/notes/{note_id}"): _discussion_note_get,
    ("PUT", MR + "/discussions/{discussion_id}/notes/{note_id}"): _discussion_note_put,
    ("DELETE", MR + "/discussions/{discussion_id}/notes/{note_id}"): _discussion_note_delete,
    ("GET", MR + "/notes"): FakeGitLab._list_notes,
    ("POST", MR + "/notes"): FakeGitLab._create_note,
    ("GET", MR + "/notes/{note_id}"): lambda f, b, r, n: f._note_by_id("GET", b, n),
    ("PUT", MR + "/notes/{note_id}"): lambda f, b, r, n: f._note_by_id("PUT", b, n),
    ("DELETE", MR + "/notes/{note_id}"): lambda f, b, r, n: f._note_by_id("DELETE", b, n),
    ("POST", "/projects/{id}/statuses/{sha}"): FakeGitLab._set_status,
}
