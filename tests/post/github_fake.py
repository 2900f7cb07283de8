"""A fake GitHub REST API on pytest-httpserver that behaves like GitHub where the poster
depends on it: token auth, Link pagination, 422 for a review comment off the diff (computed
from the patches it serves), rate limits, stored state between runs. Every request body is
validated against GitHub's own OpenAPI description, and responses are built from its shapes.
Its GraphQL endpoint (review threads: github_graphql_fake) validates every request against
GitHub's published GraphQL schema."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from unidiff import PatchSet
from werkzeug import Request, Response

from tests.hosts import spec as specs
from tests.post.github_graphql_fake import FakeGraphQL

SPEC_NAME = "github-rest-subset.json"
TOKEN = "ghs_faketoken0000000000000000000000000"
BODY_LIMIT = 65_536

ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)$"), "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/files$"), "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/comments$"), "/repos/{owner}/{repo}/pulls/{pull_number}/comments"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews$"), "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("POST", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)/reviews$"), "/repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"), "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"), "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("PATCH", re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$"), "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
]
CHECK_RUNS = re.compile(r"^/repos/([^/]+)/([^/]+)/check-runs$")
CHECK_RUNS_TEMPLATE = "/repos/{owner}/{repo}/check-runs"
ACTIONS_BOT = "github-actions[bot]"


def load_spec() -> dict[str, Any] | None:
    return specs.load_spec(SPEC_NAME)


def commentable(patch: str, side: str = "RIGHT") -> list[set[int]]:
    """Commentable lines per hunk, computed with unidiff (independently of the poster): RIGHT,
    new-file numbers of added and context lines; LEFT, old-file numbers of removed lines."""
    parsed = PatchSet("--- a/f\n+++ b/f\n" + patch + "\n")
    if side == "LEFT":
        return [{line.source_line_no for line in hunk if line.is_removed} for hunk in parsed[0]]
    return [
        {line.target_line_no for line in hunk if line.is_added or line.is_context}
        for hunk in parsed[0]
    ]


@dataclass
class FakeGitHub:
    server: HTTPServer
    repo: str = "octo/app"
    number: int = 7
    head_sha: str = "c0ffee" * 6 + "beef"
    files: list[dict[str, Any]] = field(default_factory=list)
    files_at_post: list[dict[str, Any]] | None = None  # the PR moved between read and write
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    log: list[tuple[str, str, Any, int]] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    rate_limit_writes: int = 0  # that many writes answered with a secondary rate limit
    retry_after: str = "1"
    server_errors: int = 0  # that many requests answered 502
    read_only: bool = False  # writes answered 403 like a fork's token
    max_per_page: int = 100
    # Who the token is. GET /user is not in specs/github-rest-subset.json (a poster does not
    # need it to write): the fake answers it in the shape of GitHub's public user, unvalidated.
    # An installation token (the Actions GITHUB_TOKEN) gets 403 there and writes as a bot.
    login: str = "reviewer-bot"
    installation_token: bool = False
    bot_login: str = ACTIONS_BOT  # who an installation token writes as (APP-SLUG[bot])
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    checks_forbidden: bool = False  # no `checks: write`, or a personal token
    public_url: str | None = None
    spec: dict[str, Any] | None = None
    graphql: FakeGraphQL = field(init=False)
    graphql_http_403: bool = False  # POST /graphql mutations answered 403 instead of FORBIDDEN
    _next_id: int = 1000

    def __post_init__(self) -> None:
        self.spec = load_spec()
        self.graphql = FakeGraphQL(self.repo, self.number)
        self.server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        """The API URL clients use (and pagination links point to): the server's own, unless
        `public_url` names the host it is reached by (through a proxy tunnel)."""
        return self.public_url or self.server.url_for("").rstrip("/")

    # --- helpers for tests ----------------------------------------------------------------

    def writes(self) -> list[tuple[str, str, Any, int]]:
        """Every request that may change something: not GETs, not GraphQL queries."""
        return [
            entry for entry in self.log
            if entry[0] != "GET" and not (entry[1] == "/graphql" and not self.graphql.is_mutation(entry[2]))
        ]

    def add_file(self, filename: str, patch: str | None, status: str = "modified") -> None:
        item = self._shaped("/repos/{owner}/{repo}/pulls/{pull_number}/files", "get", "200")
        item.update(filename=filename, status=status, additions=1, deletions=0, changes=1)
        if patch is not None:
            item["patch"] = patch
        self.files.append(item)

    @property
    def author(self) -> str:
        """Who our writes are authored by."""
        return self.bot_login if self.installation_token else self.login

    def add_issue_comment(self, body: str, author: str = "a-human") -> dict[str, Any]:
        comment = self._shaped("/repos/{owner}/{repo}/issues/{issue_number}/comments", "get", "200")
        comment.update(id=self._id(), body=body, user=self._user(author))
        self.issue_comments.append(comment)
        return comment

    def add_review_comment(self, body: str, path: str = "src/app.py", line: int = 1, author: str = "a-human") -> dict[str, Any]:
        """A comment that starts a review thread, as someone wrote it in the web UI."""
        comment = self._shaped("/repos/{owner}/{repo}/pulls/{pull_number}/comments", "get", "200")
        comment.update(id=self._id(), body=body, path=path, line=line, side="RIGHT", user=self._user(author))
        self.review_comments.append(comment)
        self.graphql.start_thread(comment["id"])
        return comment

    def add_review(self, body: str, author: str = "a-human") -> None:
        review = self._shaped("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "get", "200")
        review.update(id=self._id(), body=body, state="COMMENTED", user=self._user(author))
        self.reviews.append(review)

    def summaries(self, author: str | None = None) -> list[dict[str, Any]]:
        """Our summary comments (by default those written by the token's identity)."""
        who = author or self.author
        return [
            c for c in self.issue_comments
            if c["body"].startswith("<!-- reviewer:summary -->") and c["user"]["login"] == who
        ]

    # --- the fake API ----------------------------------------------------------------------

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _user(self, login: str) -> dict[str, Any]:
        """A simple-user in the spec's shape (the `user` of comments and reviews)."""
        user = self._shaped("/repos/{owner}/{repo}/issues/{issue_number}/comments", "get", "200").get("user") or {}
        return {**user, "login": login, "type": "Bot" if login.endswith("[bot]") else "User"}

    def _shaped(self, path: str, method: str, status: str) -> dict[str, Any]:
        if self.spec is None:
            return {}
        schema = specs.response_schema(self.spec, path, method, int(status)) or {}
        return specs.example(schema.get("items", schema))

    def _validate(self, template: str, method: str, body: Any) -> None:
        if self.spec is None:
            return
        schema = specs.request_schema(self.spec, template, method) or {}
        self.schema_errors.extend(f"{method} {template}: {p}" for p in specs.problems(schema, body))

    def handle(self, request: Request) -> Response:
        body = request.get_json(silent=True) if request.data else None
        response = self._respond(request, body)
        self.log.append((request.method, request.path, body, response.status_code))
        return response

    def _respond(self, request: Request, body: Any) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}, 401)
        if self.server_errors > 0:
            self.server_errors -= 1
            return Response("bad gateway", status=502)
        if request.path == "/graphql" and request.method == "POST":
            return self._graphql(body)
        if request.path == "/user" and request.method == "GET":
            if self.installation_token:
                return _json({"message": "Resource not accessible by integration", "documentation_url": "x"}, 403)
            return _json({"login": self.login, "id": 1, "type": "User"})
        if request.method != "GET":
            if self.read_only:
                return _json({"message": "Resource not accessible by integration", "documentation_url": "x"}, 403)
            if self.rate_limit_writes > 0:
                self.rate_limit_writes -= 1
                return _json(
                    {"message": "You have exceeded a secondary rate limit", "documentation_url": "x"},
                    403,
                    {"retry-after": self.retry_after},
                )
        check = CHECK_RUNS.match(request.path)
        if check and request.method == "POST":
            return self._create_check_run(check.group(1) + "/" + check.group(2), body)
        for method, pattern, template in ROUTES:
            m = pattern.match(request.path)
            if m and method == request.method:
                if m.group(1) + "/" + m.group(2) != self.repo:
                    return _json({"message": "Not Found", "documentation_url": "x"}, 404)
                if body is not None:
                    self._validate(template, method, body)
                return self._route(template, method, request, body, int(m.group(3)))
        return _json({"message": "Not Found", "documentation_url": "x"}, 404)

    def _route(self, template: str, method: str, request: Request, body: Any, number: int) -> Response:
        if template.endswith("comments/{comment_id}"):
            return self._edit_issue_comment(number, body)
        if number != self.number:
            return _json({"message": "Not Found", "documentation_url": "x"}, 404)
        if template.endswith("{pull_number}"):
            pull = self._shaped(template, "get", "200")
            pull["number"] = self.number
            pull["head"] = {**pull.get("head", {}), "sha": self.head_sha}
            return _json(pull)
        if method == "GET":
            table = {
                "files": self.files,
                "comments": self.issue_comments if "/issues/" in template else self.review_comments,
                "reviews": self.reviews,
            }
            return self._page(request, table[template.rsplit("/", 1)[1]])
        if template.endswith("/reviews"):
            return self._create_review(body)
        return self._create_issue_comment(body)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        per_page = min(int(request.args.get("per_page", 30)), self.max_per_page)
        page = int(request.args.get("page", 1))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []
        last = max(1, -(-len(items) // per_page))
        base = self.url + request.path + "?"
        if page < last:
            links.append(f'<{base}{urlencode({"per_page": per_page, "page": page + 1})}>; rel="next"')
            links.append(f'<{base}{urlencode({"per_page": per_page, "page": last})}>; rel="last"')
        return _json(chunk, 200, {"Link": ", ".join(links)} if links else {})

    def _too_long(self, text: str | None) -> bool:
        return text is not None and len(text) > BODY_LIMIT

    def _off_diff(self, comment: dict[str, Any]) -> bool:
        files = {f["filename"]: f for f in (self.files_at_post or self.files)}
        item = files.get(comment["path"])
        side = comment.get("side", "RIGHT")
        if item is None or "patch" not in item or side not in ("RIGHT", "LEFT"):
            return True
        if "start_line" in comment and comment.get("start_side", side) != side:
            return True  # a range across sides: not something the poster ever sends
        wanted = set(range(comment.get("start_line", comment["line"]), comment["line"] + 1))
        if comment.get("start_line", 0) >= comment["line"] and "start_line" in comment:
            return True
        return not any(wanted <= hunk for hunk in commentable(item["patch"], side))

    def _create_review(self, body: dict[str, Any]) -> Response:
        comments = body.get("comments", [])
        problems = [c for c in comments if self._off_diff(c) or self._too_long(c["body"])]
        if problems or self._too_long(body.get("body")) or body.get("event") != "COMMENT":
            return _json(
                {"message": "Unprocessable Entity", "errors": ["Line could not be resolved"], "documentation_url": "x"},
                422,
            )
        review = self._shaped("/repos/{owner}/{repo}/pulls/{pull_number}/reviews", "post", "200")
        review.update(
            id=self._id(), body=body.get("body", ""), state="COMMENTED",
            commit_id=body.get("commit_id", self.head_sha), user=self._user(self.author),
        )
        self.reviews.append(review)
        for c in comments:
            stored = self._shaped("/repos/{owner}/{repo}/pulls/{pull_number}/comments", "get", "200")
            stored.update(c, id=self._id(), pull_request_review_id=review["id"], user=self._user(self.author))
            self.review_comments.append(stored)
            self.graphql.start_thread(stored["id"])
        return _json(review)

    def _graphql(self, body: Any) -> Response:
        """GitHub's GraphQL endpoint. A fork's read-only token may query but not mutate."""
        if self.graphql.is_mutation(body):
            if self.graphql_http_403:
                return _json({"message": "Resource not accessible by integration", "documentation_url": "x"}, 403)
            if self.read_only:
                return _json({"errors": [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]})
        seen = len(self.graphql.problems)
        answer = self.graphql.answer(body)
        self.schema_errors.extend(f"POST /graphql: {p}" for p in self.graphql.problems[seen:])
        return _json(answer)

    def _create_issue_comment(self, body: dict[str, Any]) -> Response:
        if self._too_long(body.get("body")):
            return _json({"message": "Validation Failed", "documentation_url": "x"}, 422)
        comment = self.add_issue_comment(body["body"], author=self.author)
        return _json(comment, 201)

    def _edit_issue_comment(self, comment_id: int, body: dict[str, Any]) -> Response:
        if self._too_long(body.get("body")):
            return _json({"message": "Validation Failed", "documentation_url": "x"}, 422)
        for comment in self.issue_comments:
            if comment["id"] == comment_id:
                if comment["user"]["login"] != self.author:  # GitHub: only the author may edit
                    return _json({"message": "Forbidden", "documentation_url": "x"}, 403)
                comment["body"] = body["body"]
                return _json(comment)
        return _json({"message": "Not Found", "documentation_url": "x"}, 404)


    def _create_check_run(self, repo: str, body: Any) -> Response:
        if repo != self.repo:
            return _json({"message": "Not Found", "documentation_url": "x"}, 404)
        if body is not None:
            self._validate(CHECK_RUNS_TEMPLATE, "POST", body)
        if self.checks_forbidden:
            return _json({"message": "Resource not accessible by integration", "documentation_url": "x"}, 403)
        run = self._shaped(CHECK_RUNS_TEMPLATE, "post", "201")
        run.update(body, id=self._id())
        self.check_runs.append(run)
        return _json(run, 201)


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")
