"""The fake GitHub's GraphQL endpoint: GitHub's own published schema (tests/data/
github-schema.graphql.gz, see its SOURCE.md) loaded with graphql-core; every request parsed and
validated against it, then answered by executing it against that schema over the fake's review
threads, so an answer has exactly the shape GitHub's schema gives it. Answers follow GitHub's
conventions: 200 with `errors`, each refusal with GitHub's `type` (FORBIDDEN, NOT_FOUND)."""

from __future__ import annotations

import base64
import gzip
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    build_schema,
    execute,
    parse,
    validate,
)

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "github-schema.graphql.gz"
MAX_NODES = 100  # GitHub's limit on `first`/`last` of a connection


@cache
def schema() -> GraphQLSchema:
    """GitHub's schema. Its published SDL defines two fields twice and deprecates a dozen `id`s
    that implement Node's, which graphql-core's schema checks refuse (SOURCE.md): those checks
    are skipped; documents are still validated against the schema in full."""
    sdl = gzip.decompress(SCHEMA.read_bytes()).decode()
    return build_schema(sdl, assume_valid_sdl=True, assume_valid=True)


class Refusal(Exception):
    """GitHub refusing a field (its `type` and message), as opposed to a request it cannot run."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Thread:
    """A review thread: GitHub starts one for each review comment that is not a reply."""

    node_id: str
    comment_ids: list[int]
    resolved: bool = False


@dataclass
class FakeGraphQL:
    repo: str
    number: int
    threads: list[Thread] = field(default_factory=list)
    forbidden: bool = False  # resolveReviewThread answers FORBIDDEN (no `contents: write`)
    resolutions: list[str] = field(default_factory=list)  # thread ids, in the order resolved
    problems: list[str] = field(default_factory=list)  # requests GitHub's schema refuses

    def start_thread(self, comment_id: int) -> Thread:
        thread = Thread(f"PRRT_kwDOfake{len(self.threads) + 1:04d}", [comment_id])
        self.threads.append(thread)
        return thread

    def thread_of(self, comment_id: int) -> Thread:
        return next(t for t in self.threads if t.comment_ids[0] == comment_id)

    # --- the endpoint -------------------------------------------------------------------------

    def is_mutation(self, body: Any) -> bool:
        operation = _operation(body)
        return operation is not None and operation.operation is OperationType.MUTATION

    def answer(self, body: Any) -> dict[str, Any]:
        """The JSON GitHub answers (always with status 200) to one POST /graphql."""
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self._refused(["A query attribute must be specified and must be a string."])
        try:
            document = parse(body["query"])
        except GraphQLError as e:
            return self._refused([e.message])
        invalid = validate(schema(), document)
        if invalid:
            return self._refused([e.message for e in invalid])
        variables = body.get("variables")
        result: Any = execute(schema(), document, self._root(), variable_values=variables)
        errors = [self._error(e) for e in result.errors or []]
        answer: dict[str, Any] = {"data": result.data}
        return {**answer, "errors": errors} if errors else answer

    def _refused(self, messages: list[str]) -> dict[str, Any]:
        self.problems.extend(messages)
        return {"errors": [{"message": m} for m in messages]}

    def _error(self, error: GraphQLError) -> dict[str, Any]:
        refusal = error.original_error
        if isinstance(refusal, Refusal):
            return {"type": refusal.kind, "path": error.path, "message": str(refusal)}
        # Bad variables, or a null where the schema says non-null: GitHub would not run it.
        self.problems.append(error.message)
        return {"path": error.path, "message": error.message}

    # --- the schema's fields over the fake's state ----------------------------------------------

    def _root(self) -> dict[str, Any]:
        return {"repository": self._repository, "resolveReviewThread": self._resolve}

    def _repository(self, info: Any, owner: str, name: str, **_: Any) -> dict[str, Any]:
        if f"{owner}/{name}" != self.repo:
            raise Refusal("NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.")
        return {"nameWithOwner": self.repo, "pullRequest": self._pull_request}

    def _pull_request(self, info: Any, number: int) -> dict[str, Any]:
        if number != self.number:
            raise Refusal("NOT_FOUND", f"Could not resolve to a PullRequest with the number of {number}.")
        return {"number": number, "reviewThreads": self._review_threads}

    def _review_threads(self, info: Any, **page: Any) -> dict[str, Any]:
        return _connection(self.threads, page, self._thread)

    def _thread(self, thread: Thread) -> dict[str, Any]:
        comments = [{"databaseId": i, "id": f"PRRC_kwDOfake{i}"} for i in thread.comment_ids]
        return {
            "id": thread.node_id,
            "isResolved": thread.resolved,
            "comments": lambda info, **page: _connection(comments, page, lambda c: c),
        }

    def _resolve(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        if self.forbidden:
            raise Refusal("FORBIDDEN", "Resource not accessible by integration")
        found = [t for t in self.threads if t.node_id == input["threadId"]]
        if not found:
            raise Refusal("NOT_FOUND", f"Could not resolve to a node with the global id of '{input['threadId']}'")
        found[0].resolved = True
        self.resolutions.append(found[0].node_id)
        return {"thread": self._thread(found[0])}


def _operation(body: Any) -> OperationDefinitionNode | None:
    try:
        document = parse(body["query"])
    except (GraphQLError, KeyError, TypeError):
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return operations[0] if operations else None


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _connection(items: list[Any], page: dict[str, Any], node: Any) -> dict[str, Any]:
    """A connection page as GitHub serves it: `first` (or `last`) required and at most 100,
    `after` an opaque cursor from this connection."""
    first, after = page.get("first"), page.get("after")
    if first is None and page.get("last") is None:
        raise Refusal("MISSING_PAGINATION_BOUNDARIES", "You must provide a `first` or `last` value to properly paginate.")
    if (first or 0) > MAX_NODES or (page.get("last") or 0) > MAX_NODES:
        raise Refusal("MAX_NODE_LIMIT_EXCEEDED", "Requesting more than 100 records on the connection exceeds the limit.")
    start = 0
    if after is not None:
        matches = [i for i in range(len(items)) if _cursor(i) == after]
        if not matches:
            raise Refusal("INVALID_CURSOR_ARGUMENTS", f"`{after}` does not appear to be a valid cursor.")
        start = matches[0] + 1
    count = first if first is not None else page["last"]
    chunk = items[start : start + count]
    end = start + len(chunk) - 1
    return {
        "nodes": [node(item) for item in chunk],
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": start + len(chunk) < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": _cursor(start) if chunk else None,
            "endCursor": _cursor(end) if chunk else None,
        },
    }
