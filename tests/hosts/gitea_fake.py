"""A fake Gitea (and Forgejo) REST API v1 on pytest-httpserver, for the Gitea poster's tests:
one repository and one pull request whose diff comes from real `git diff` output, Gitea's
token headers, page/limit pagination with Link and X-Total-Count, pull reviews whose comments
must sit on a line of the diff, issue comments only their author may edit, commit statuses,
rate limits and server errors on demand. Every request body is validated against
../shared/specs/gitea-rest-subset.json, and so is every JSON response.

A review comment on a line outside the diff is accepted, as Gitea accepts it: stored with an
empty `diff_hunk` (go-gitea/gitea services/pull/review.go, createCodeComment: a blame error for
a path or a line the file lacks is tolerated, and git.CutDiffAroundLine answers "" for a line
no hunk holds; routers/api/v1/repo/pull_review.go, CreatePullReview answers 500 only for other
errors). So a poster has to check what it posted, not trust a 200. Also as in Gitea: a PENDING
review is seen by its author only and takes the author's next comments (GetCurrentReview); the
review list says X-Total-Count but sends no Link header (ListPullReviews); anyone who may write
to the repository may edit or delete an issue comment (editIssueComment)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.hosts.diff_model import DiffFile, parse
from tests.hosts.fake_host import FakeHost, json_response, made_up_sha

SPEC_NAME = "gitea-rest-subset.json"
TOKEN = "0123456789abcdef0123456789abcdef01234567"
PREFIX = "/api/v1"
REPO = "/repos/{owner}/{repo}"
PULL = REPO + "/pulls/{index}"
NOW = "2024-01-01T00:00:00Z"
SWAGGER = "https://gitea.example/api/swagger"

ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), t)
    for m, p, t in [
        ("GET", r"/pulls/(\d+)$", PULL),
        ("GET", r"/pulls/(\d+)\.(diff|patch)$", PULL + ".{diffType}"),
        ("GET", r"/pulls/(\d+)/files$", PULL + "/files"),
        ("GET", r"/pulls/(\d+)/reviews$", PULL + "/reviews"),
        ("POST", r"/pulls/(\d+)/reviews$", PULL + "/reviews"),
        ("GET", r"/pulls/(\d+)/reviews/(\d+)$", PULL + "/reviews/{id}"),
        ("POST", r"/pulls/(\d+)/reviews/(\d+)$", PULL + "/reviews/{id}"),
        ("DELETE", r"/pulls/(\d+)/reviews/(\d+)$", PULL + "/reviews/{id}"),
        ("GET", r"/pulls/(\d+)/reviews/(\d+)/comments$", PULL + "/reviews/{id}/comments"),
        ("GET", r"/issues/(\d+)/comments$", REPO + "/issues/{index}/comments"),
        ("POST", r"/issues/(\d+)/comments$", REPO + "/issues/{index}/comments"),
        ("PATCH", r"/issues/comments/(\d+)$", REPO + "/issues/comments/{id}"),
        ("DELETE", r"/issues/comments/(\d+)$", REPO + "/issues/comments/{id}"),
        ("POST", r"/statuses/(\w+)$", REPO + "/statuses/{sha}"),
    ]
]
REPO_PATH = re.compile(r"^/repos/([^/]+)/([^/]+)(/.*)$")


@dataclass
class FakeGitea(FakeHost):
    server: HTTPServer
    owner: str = "org"
    repo: str = "app"
    index: int = 7
    base_sha: str = ""
    head_sha: str = ""
    files: list[DiffFile] = field(default_factory=list)
    diff_text: str = ""
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    login: str = "reviewer-bot"  # who TOKEN is
    read_only: bool = False  # a token without write access to the repository: writes 403
    max_limit: int = 50  # Gitea's [api] MAX_RESPONSE_ITEMS
    user_scope: bool = True  # False: a scoped token without read:user (GET /user is 403)

    def __post_init__(self) -> None:
        self.spec_name, self.next_id = SPEC_NAME, 2000
        self.rate_limit_answer, self.server_error = (
            (429, "Too Many Requests"),
            (503, "Service Unavailable"),
        )
        self.serve(self.server)

    @property
    def url(self) -> str:
        """The API base a client is given (Gitea Actions' GITHUB_API_URL)."""
        return self.server.url_for("").rstrip("/") + PREFIX

    # --- helpers for tests ----------------------------------------------------------------

    def push(
        self, diff_text: str, base_sha: str | None = None, head_sha: str | None = None
    ) -> None:
        """The pull request's diff becomes this `git diff` (a push); earlier reviews stay,
        and their comments are marked stale as Gitea does."""
        n = len(self.reviews) + len(self.diff_text)
        self.base_sha = base_sha or made_up_sha(f"base{n}")
        self.head_sha = head_sha or made_up_sha(f"head{n}")
        self.diff_text, self.files = diff_text, parse(diff_text)
        for review in self.reviews:
            review["stale"] = review["commit_id"] != self.head_sha

    def add_issue_comment(self, body: str, author: str = "a-human") -> dict[str, Any]:
        comment = {
            "id": self._id(),
            "body": body,
            "user": self._user(author),
            "created_at": NOW,
            "updated_at": NOW,
            "html_url": f"{self._web()}#issuecomment-{self.next_id}",
            "issue_url": self._web(),
            "pull_request_url": self._web(),
            "assets": [],
            "original_author": "",
            "original_author_id": 0,
        }
        self.issue_comments.append(comment)
        return comment

    def add_review(
        self, body: str, author: str = "a-human", state: str = "COMMENT"
    ) -> dict[str, Any]:
        review = self._review(body, author, state, self.head_sha)
        self.reviews.append(review)
        return review

    def resolve(self, comment_id: int, by: str = "a-human") -> None:
        """A human resolves a review comment in the web UI (the API cannot)."""
        comment = next(c for c in self.review_comments if c["id"] == comment_id)
        comment["resolver"] = self._user(by)

    # --- the fake API ----------------------------------------------------------------------

    def _web(self) -> str:
        return f"https://gitea.example/{self.owner}/{self.repo}/pulls/{self.index}"

    def _user(self, login: str) -> dict[str, Any]:
        return {
            "id": 1 if login == self.login else 2 + len(login),
            "login": login,
            "login_name": "",
            "full_name": login,
            "email": f"{login}@noreply.gitea.example",
            "avatar_url": f"https://gitea.example/avatars/{login}",
            "is_admin": False,
            "active": True,
            "restricted": False,
            "prohibit_login": False,
            "visibility": "public",
            "created": NOW,
            "last_login": NOW,
            "language": "",
            "location": "",
            "website": "",
            "description": "",
            "followers_count": 0,
            "following_count": 0,
            "starred_repos_count": 0,
            "source_id": 0,
        }

    def _authorized(self, request: Request) -> bool:
        given = request.headers.get("Authorization", "")
        return given in (f"token {TOKEN}", f"Bearer {TOKEN}")

    def respond(self, request: Request, body: Any, error: str | None) -> Response:
        if not request.path.startswith(PREFIX + "/"):
            return _error("Not Found", 404)
        path = request.path[len(PREFIX) :]
        if not self._authorized(request):
            return _error("token is required", 401)
        fault = self.fault()
        if fault is not None:
            return fault
        if error is not None:
            self.schema_errors.append(f"{request.method} {path}: {error}")
            return _error(error, 422)
        if path == "/user" and request.method == "GET":
            if not self.user_scope:
                message = "token does not have at least one of required scope(s): [read:user]"
                return _error(message, 403)
            return self.answer("/user", "GET", self._user(self.login))
        m = REPO_PATH.match(path)
        if not m or (m.group(1), m.group(2)) != (self.owner, self.repo):
            return _error("The target couldn't be found.", 404)
        if request.method != "GET" and self.read_only:
            return _error("user should have specific permission or be a site admin", 403)
        for method, pattern, template in ROUTES:
            found = pattern.match(m.group(3))
            if found and method == request.method:
                return self._dispatch(template, method, body, request, found.groups())
        return _error("Not Found", 404)

    def _dispatch(
        self, template: str, method: str, body: Any, request: Request, args: tuple[str, ...]
    ) -> Response:
        if method in ("POST", "PATCH"):
            found = self.body_problems(template, method, body)
            if found:
                return _error(found[0], 422)
        if "{index}" in template and int(args[0]) != self.index:
            return _error("The target couldn't be found.", 404)
        handler = HANDLERS[(method, template)]
        return handler(self, body, request, *args)

    def _page(
        self, template: str, request: Request, items: list[Any], *, with_link: bool = True
    ) -> Response:
        """Gitea's pagination: page and limit (capped at MAX_RESPONSE_ITEMS), X-Total-Count and
        (where Gitea calls SetLinkHeader) a Link header with next/last (and first/prev past the
        first page)."""
        limit = max(1, min(int(request.args.get("limit", self.max_limit)), self.max_limit))
        page = max(1, int(request.args.get("page", 1)))
        pages = max(1, -(-len(items) // limit))
        base = self.url + request.path[len(PREFIX) :] + "?"

        def link(n: int, rel: str) -> str:
            return f'<{base}{urlencode({"limit": limit, "page": n})}>; rel="{rel}"'

        links = [link(page + 1, "next"), link(pages, "last")] if page < pages else []
        links += [link(1, "first"), link(page - 1, "prev")] if page > 1 else []
        headers = {"X-Total-Count": str(len(items))}
        if links and with_link:
            headers["Link"] = ", ".join(links)
        return self.answer(template, "GET", items[(page - 1) * limit : page * limit], 200, headers)

    # --- the pull request and its diff -------------------------------------------------------

    def _get_pull(self, body: Any, request: Request, index: str) -> Response:
        def branch(ref: str, sha: str) -> dict[str, Any]:
            return {"label": ref, "ref": ref, "sha": sha, "repo_id": 1}

        pull = {
            "id": 300 + self.index,
            "number": self.index,
            "title": "A change",
            "body": "",
            "state": "open",
            "user": self._user("a-human"),
            "head": branch("feature", self.head_sha),
            "base": branch("main", self.base_sha),
            "merge_base": self.base_sha,
            "mergeable": True,
            "merged": False,
            "merged_at": None,
            "merged_by": None,
            "merge_commit_sha": None,
            "diff_url": self._web() + ".diff",
            "patch_url": self._web() + ".patch",
            "html_url": self._web(),
            "url": self._web(),
            "created_at": NOW,
            "updated_at": NOW,
            "comments": len(self.issue_comments),
            "is_locked": False,
        }
        return self.answer(PULL, "GET", pull)

    def _get_diff(self, body: Any, request: Request, index: str, kind: str) -> Response:
        if kind == "patch":  # format-patch output is not modelled
            return _error("Not Found", 404)
        return Response(self.diff_text, status=200, content_type="text/plain")

    def _get_files(self, body: Any, request: Request, index: str) -> Response:
        status = {
            "added": "added",
            "deleted": "deleted",
            "renamed": "renamed",
            "modified": "changed",
        }
        items = [
            {
                "filename": f.new_path,
                "previous_filename": f.old_path if f.status == "renamed" else "",
                "status": status[f.status],
                "additions": f.additions,
                "deletions": f.deletions,
                "changes": f.additions + f.deletions,
                "html_url": f"https://gitea.example/{self.owner}/{self.repo}/src/commit/{self.head_sha}/{f.new_path}",
                "contents_url": f"{self.url}/repos/{self.owner}/{self.repo}/contents/{f.new_path}?ref={self.head_sha}",
                "raw_url": f"https://gitea.example/{self.owner}/{self.repo}/raw/commit/{self.head_sha}/{f.new_path}",
            }
            for f in self.files
        ]
        return self._page(PULL + "/files", request, items)

    # --- reviews ----------------------------------------------------------------------------

    def _review(self, body: str, author: str, state: str, commit_id: str) -> dict[str, Any]:
        return {
            "id": self._id(),
            "body": body,
            "user": self._user(author),
            "state": state,
            "commit_id": commit_id,
            "comments_count": 0,
            "stale": False,
            "official": False,
            "dismissed": False,
            "team": None,
            "submitted_at": NOW if state != "PENDING" else None,
            "updated_at": NOW,
            "html_url": f"{self._web()}#pullrequestreview-{self.next_id}",
            "pull_request_url": self._web(),
        }

    def _find_review(self, review_id: str) -> dict[str, Any] | None:
        """prepareSingleReview: another user's pending review is not found."""
        found = next((r for r in self.reviews if r["id"] == int(review_id)), None)
        if found is not None and found["state"] == "PENDING" and not self._ours(found):
            return None
        return found

    def _list_reviews(self, body: Any, request: Request, index: str) -> Response:
        # convert.ToPullReviewList leaves out other users' pending reviews.
        shown = [r for r in self.reviews if r["state"] != "PENDING" or self._ours(r)]
        return self._page(PULL + "/reviews", request, shown, with_link=False)

    def _ours(self, item: dict[str, Any]) -> bool:
        return bool(item["user"]["login"] == self.login)

    def _create_review(self, body: dict[str, Any], request: Request, index: str) -> Response:
        comments = body.get("comments") or []
        event = body.get("event") or "PENDING"
        if event not in ("APPROVED", "PENDING", "COMMENT", "REQUEST_CHANGES"):
            event = "PENDING"  # Gitea treats an event it does not know as PENDING
        has_body = bool((body.get("body") or "").strip())
        if event == "COMMENT" and not has_body and not comments:
            return _error(f"review event {event} requires a body or a comment", 422)
        if event in ("PENDING", "REQUEST_CHANGES") and not has_body:
            return _error(f"review event {event} requires a body", 422)
        # GetCurrentReview: our pending review, if there is one, takes the comments.
        review = next((r for r in self.reviews if r["state"] == "PENDING" and self._ours(r)), None)
        if review is None:
            review = self._review("", self.login, "PENDING", body.get("commit_id") or self.head_sha)
            self.reviews.append(review)
        for c in comments:
            self.review_comments.append(self._comment(review, c))
        review["comments_count"] = sum(
            1 for c in self.review_comments if c["pull_request_review_id"] == review["id"]
        )
        review.update(body=body.get("body") or "", state=event)
        if event != "PENDING":
            review["submitted_at"] = NOW
        return self.answer(PULL + "/reviews", "POST", review)

    def _diff_hunk(self, path: str, new: int, old: int) -> str:
        """The file's hunk text if the line is one of the diff's (new: an added or unchanged
        line by its new number; old: a removed or unchanged line by its old number), else ""
        as Gitea's CutDiffAroundLine, which counts a hunk's lines on the side asked for."""
        f: DiffFile | None = next((f for f in self.files if f.new_path == path), None)
        if f is None:
            return ""
        if old > 0:  # CreatePullReview: old_position wins when both are given
            hit = any(line.old == old for line in f.lines)
        else:
            hit = new > 0 and any(line.new == new for line in f.lines)
        return f.hunks_text if hit else ""

    def _comment(self, review: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
        new, old = c.get("new_position") or 0, c.get("old_position") or 0
        if old > 0:
            new = 0
        path = c.get("path") or ""
        return {
            "id": self._id(),
            "body": c.get("body") or "",
            "user": review["user"],
            "path": path,
            "position": new,
            "original_position": old,
            "commit_id": review["commit_id"],
            "original_commit_id": review["commit_id"],
            "diff_hunk": self._diff_hunk(path, new, old),
            "pull_request_review_id": review["id"],
            "resolver": None,
            "created_at": NOW,
            "updated_at": NOW,
            "html_url": f"{self._web()}/files#issuecomment-{self.next_id}",
            "pull_request_url": self._web(),
        }

    def _get_review(self, body: Any, request: Request, index: str, review_id: str) -> Response:
        review = self._find_review(review_id)
        if review is None:
            return _error("The target couldn't be found.", 404)
        return self.answer(PULL + "/reviews/{id}", "GET", review)

    def _submit_review(
        self, body: dict[str, Any], request: Request, index: str, review_id: str
    ) -> Response:
        review = self._find_review(review_id)
        if review is None:
            return _error("The target couldn't be found.", 404)
        if review["state"] != "PENDING":
            return _error("only a pending review can be submitted", 422)
        if body.get("event") in (None, "", "PENDING"):
            return _error("review event PENDING cannot be submitted", 422)
        review.update(
            state=body["event"], body=body.get("body") or review["body"], submitted_at=NOW
        )
        return self.answer(PULL + "/reviews/{id}", "POST", review)

    def _delete_review(self, body: Any, request: Request, index: str, review_id: str) -> Response:
        review = self._find_review(review_id)
        if review is None:
            return _error("The target couldn't be found.", 404)
        if review["user"]["login"] != self.login:
            return _error("reviewer is not the one who created this review", 403)
        self.reviews.remove(review)
        self.review_comments[:] = [
            c for c in self.review_comments if c["pull_request_review_id"] != review["id"]
        ]
        return Response(status=204)

    def _review_comments(self, body: Any, request: Request, index: str, review_id: str) -> Response:
        if self._find_review(review_id) is None:
            return _error("The target couldn't be found.", 404)
        found = [c for c in self.review_comments if c["pull_request_review_id"] == int(review_id)]
        # Grouped by file and line as convert.ToPullReviewCommentList walks them, not in the
        # order they were posted.
        found.sort(key=lambda c: (c["path"], c["position"], c["original_position"]))
        return self.answer(PULL + "/reviews/{id}/comments", "GET", found)

    # --- issue comments and statuses ---------------------------------------------------------

    def _list_issue_comments(self, body: Any, request: Request, index: str) -> Response:
        # Not paginated: the endpoint takes only `since` and `before`, and answers all.
        return self.answer(REPO + "/issues/{index}/comments", "GET", self.issue_comments)

    def _create_issue_comment(self, body: dict[str, Any], request: Request, index: str) -> Response:
        comment = self.add_issue_comment(body["body"], author=self.login)
        return self.answer(REPO + "/issues/{index}/comments", "POST", comment, 201)

    def _own_comment(self, comment_id: str) -> dict[str, Any] | Response:
        comment = next((c for c in self.issue_comments if c["id"] == int(comment_id)), None)
        if comment is None:
            return _error("The target couldn't be found.", 404)
        if not self._ours(comment) and self.read_only:
            # editIssueComment / deleteIssueComment: the poster, or anyone who may write.
            return Response(status=403)
        return comment

    def _edit_issue_comment(
        self, body: dict[str, Any], request: Request, comment_id: str
    ) -> Response:
        comment = self._own_comment(comment_id)
        if isinstance(comment, Response):
            return comment
        comment.update(body=body["body"], updated_at="2024-01-02T00:00:00Z")
        return self.answer(REPO + "/issues/comments/{id}", "PATCH", comment)

    def _delete_issue_comment(self, body: Any, request: Request, comment_id: str) -> Response:
        comment = self._own_comment(comment_id)
        if isinstance(comment, Response):
            return comment
        self.issue_comments.remove(comment)
        return Response(status=204)

    def _set_status(self, body: dict[str, Any], request: Request, sha: str) -> Response:
        if body.get("state") is None:
            return _error("state is required", 422)
        status = {
            "id": self._id(),
            "status": body["state"],
            "context": body.get("context") or "default",
            "description": body.get("description") or "",
            "target_url": body.get("target_url") or "",
            "url": f"{self.url}/repos/{self.owner}/{self.repo}/statuses/{sha}",
            "creator": self._user(self.login),
            "created_at": NOW,
            "updated_at": NOW,
        }
        self.statuses.append({**status, "sha": sha})
        return self.answer(REPO + "/statuses/{sha}", "POST", status, 201)


def _error(message: str, status: int) -> Response:
    """Gitea's APIError shape."""
    return json_response({"message": message, "url": SWAGGER}, status)


HANDLERS: dict[tuple[str, str], Any] = {
    ("GET", PULL): FakeGitea._get_pull,
    ("GET", PULL + ".{diffType}"): FakeGitea._get_diff,
    ("GET", PULL + "/files"): FakeGitea._get_files,
    ("GET", PULL + "/reviews"): FakeGitea._list_reviews,
    ("POST", PULL + "/reviews"): FakeGitea._create_review,
    ("GET", PULL + "/reviews/{id}"): FakeGitea._get_review,
    ("POST", PULL + "/reviews/{id}"): FakeGitea._submit_review,
    ("DELETE", PULL + "/reviews/{id}"): FakeGitea._delete_review,
    ("GET", PULL + "/reviews/{id}/comments"): FakeGitea._review_comments,
    ("GET", REPO + "/issues/{index}/comments"): FakeGitea._list_issue_comments,
    ("POST", REPO + "/issues/{index}/comments"): FakeGitea._create_issue_comment,
    ("PATCH", REPO + "/issues/comments/{id}"): FakeGitea._edit_issue_comment,
    ("DELETE", REPO + "/issues/comments/{id}"): FakeGitea._delete_issue_comment,
    ("POST", REPO + "/statuses/{sha}"): FakeGitea._set_status,
}
