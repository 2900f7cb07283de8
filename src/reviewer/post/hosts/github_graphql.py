"""GitHub's GraphQL API, for the one thing its REST API cannot do: review threads (list them with
their first comment's REST id, resolve one). The endpoint beside the REST root, GitHub's
`errors` answers as PostErrors, and the two documents reviewer sends with the shapes of their
answers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reviewer.errors import PostError
from reviewer.formats.sanitize import plain_line
from reviewer.post.hosts.rest import Forbidden

# One page of a pull request's review threads, each with the REST id (`databaseId`) of the
# comment that started it: the REST comments carry our markers and authors, the threads only
# their id and state.
THREADS_QUERY = """
query ReviewThreads($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 100, after: $after) {
        nodes { id isResolved comments(first: 1) { nodes { databaseId } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

RESOLVE_MUTATION = """
mutation ResolveReviewThread($thread: ID!) {
  resolveReviewThread(input: {threadId: $thread}) { thread { id isResolved } }
}
"""


def graphql_url(api_url: str) -> str:
    """The GraphQL endpoint of a REST root, on the same origin: `https://api.github.com` ->
    `https://api.github.com/graphql`; GitHub Enterprise Server's `https://HOST/api/v3` ->
    `https://HOST/api/graphql`."""
    parts = urlsplit(api_url.rstrip("/"))
    path = parts.path
    path = path.removesuffix("/v3") + "/graphql" if path.endswith("/api/v3") else path + "/graphql"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


class GraphQLError(PostError):
    """GitHub answered a GraphQL request with `errors` (a 200 like any other answer)."""


def answer_data(answer: Any) -> dict[str, Any]:
    """The `data` of an answer, or the first of its `errors` as a PostError: Forbidden for
    GitHub's FORBIDDEN (what REST says with 403), else GraphQLError. Bounded, one plain line."""
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if errors:
        first = errors[0] if isinstance(errors, list) and isinstance(errors[0], dict) else {}
        extensions = first.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        kind = str(first.get("type") or code or "")
        text = plain_line(f"{kind}: {first.get('message')}" if kind else str(first.get("message")))
        error = Forbidden if kind == "FORBIDDEN" else GraphQLError
        raise error(f"GitHub refused a GraphQL request ({text})")
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise GraphQLError("GitHub answered a GraphQL request without data or errors")
    return data


# --- the answers' shapes -------------------------------------------------------------------


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class _CommentRef(_Answer):
    database_id: int | None = Field(alias="databaseId")


class _Comments(_Answer):
    nodes: list[_CommentRef | None]


class Thread(_Answer):
    """A review thread: its node id, whether it is resolved, its first comment."""

    id: str
    is_resolved: bool = Field(alias="isResolved")
    comments: _Comments

    @property
    def first_comment(self) -> int | None:
        first = self.comments.nodes[0] if self.comments.nodes else None
        return first.database_id if first is not None else None


class _PageInfo(_Answer):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: str | None = Field(alias="endCursor")


class _Threads(_Answer):
    nodes: list[Thread | None]
    page_info: _PageInfo = Field(alias="pageInfo")


def thread_page(data: dict[str, Any]) -> tuple[list[Thread], str | None]:
    """One page of THREADS_QUERY's answer: its threads and the cursor of the next page."""
    pull = (data.get("repository") or {}).get("pullRequest")
    if not isinstance(pull, dict):
        raise GraphQLError("GitHub's GraphQL API found no such pull request")
    try:
        page = _Threads.model_validate(pull.get("reviewThreads"))
    except ValidationError as e:
        why = plain_line(str(e))
        raise GraphQLError(f"GitHub's review threads are in an unexpected shape: {why}") from None
    threads = [t for t in page.nodes if t is not None]
    if not page.page_info.has_next_page:
        return threads, None
    if not page.page_info.end_cursor:
        raise GraphQLError("GitHub said more review threads follow but gave no cursor")
    return threads, page.page_info.end_cursor


def resolved(data: dict[str, Any]) -> bool:
    """Whether RESOLVE_MUTATION's answer says the thread is now resolved."""
    thread = (data.get("resolveReviewThread") or {}).get("thread") or {}
    return thread.get("isResolved") is True
