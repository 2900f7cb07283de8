"""GitHub's GraphQL requests through the shared REST client, against real local servers: the
endpoint beside the REST root (GitHub Enterprise Server's too), GitHub's 200-with-`errors`
answers as plain, bounded errors with the token scrubbed, and the fake GitHub's validation of
every request against GitHub's published schema (it is live: a query the schema refuses is
refused)."""

from __future__ import annotations

import json

import pytest
from graphql import parse, validate
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.errors import PostError
from reviewer.post.hosts import github_graphql as gql
from reviewer.post.hosts.github import GitHubClient
from reviewer.post.hosts.rest import Forbidden, RetryPolicy
from tests.post.github_fake import TOKEN, FakeGitHub
from tests.post.github_graphql_fake import schema

THREADS = {"owner": "octo", "name": "app", "number": 7, "after": None}


@pytest.mark.parametrize(
    "api_url, endpoint",
    [
        ("https://api.github.com", "https://api.github.com/graphql"),
        ("https://github.example.com/api/v3", "https://github.example.com/api/graphql"),
        ("https://github.example.com/api/v3/", "https://github.example.com/api/graphql"),
        ("https://git.example/github/api/v3", "https://git.example/github/api/graphql"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/graphql"),
    ],
)
def test_the_graphql_endpoint_is_beside_the_rest_root(api_url: str, endpoint: str) -> None:
    assert gql.graphql_url(api_url) == endpoint


def test_a_ghes_client_posts_to_api_graphql_on_the_same_server(httpserver: HTTPServer) -> None:
    seen: list[dict[str, object]] = []

    def handler(request: Request) -> Response:
        assert request.headers["Authorization"] == "Bearer secret-token-123"
        seen.append(json.loads(request.data))
        return Response(json.dumps({"data": {"viewer": {"login": "octo"}}}), content_type="application/json")

    httpserver.expect_request("/api/graphql", method="POST").respond_with_handler(handler)
    client = GitHubClient(httpserver.url_for("/api/v3"), "secret-token-123")
    assert client.graphql("query { viewer { login } }", {}) == {"viewer": {"login": "octo"}}
    assert seen == [{"query": "query { viewer { login } }", "variables": {}}]


def test_our_two_documents_are_valid_against_githubs_schema() -> None:
    for document in (gql.THREADS_QUERY, gql.RESOLVE_MUTATION):
        assert validate(schema(), parse(document)) == []


def test_the_fake_refuses_what_githubs_schema_refuses(fake: FakeGitHub) -> None:
    client = GitHubClient(fake.url, TOKEN)
    misspelt = gql.THREADS_QUERY.replace("isResolved", "isResolvd")
    with pytest.raises(PostError, match="Cannot query field 'isResolvd' on type 'PullRequestReviewThread'"):
        client.graphql(misspelt, THREADS)
    wrong_type = gql.THREADS_QUERY.replace("$number: Int!", "$number: String!")
    with pytest.raises(PostError, match="Variable '\\$number' of type 'String!' used in position expecting type 'Int!'"):
        client.graphql(wrong_type, THREADS)
    with pytest.raises(PostError, match="Int cannot represent non-integer value: 'seven'"):
        client.graphql(gql.THREADS_QUERY, {**THREADS, "number": "seven"})
    assert len(fake.schema_errors) == 3 and all(e.startswith("POST /graphql: ") for e in fake.schema_errors)
    # The real documents go through, answered from the fake's state in the schema's shape.
    data = client.graphql(gql.THREADS_QUERY, THREADS)
    threads, cursor = gql.thread_page(data)
    assert len(threads) == 35 and cursor is None and len(fake.schema_errors) == 3
    assert threads[0].first_comment == fake.review_comments[0]["id"] and not threads[0].is_resolved


def test_a_200_with_errors_names_the_first_error_bounded_plain_and_scrubbed(httpserver: HTTPServer) -> None:
    token = "ghs_" + "s" * 36
    message = f"Could not resolve \x1b[31m{token}\nnext line " + "x" * 5000
    errors = [{"type": "NOT_FOUND", "path": ["repository"], "message": message}, {"message": "second"}]
    httpserver.expect_request("/graphql").respond_with_json({"data": {"repository": None}, "errors": errors})
    client = GitHubClient(httpserver.url_for(""), token)
    with pytest.raises(PostError) as e:
        client.graphql(gql.THREADS_QUERY, THREADS)
    text = e.value.message
    assert text.startswith("GitHub refused a GraphQL request (NOT_FOUND: Could not resolve ")
    assert token not in text and "***" in text
    assert "\x1b" not in text and "\n" not in text and len(text) < 300 and "second" not in text


def test_forbidden_is_what_a_403_is(httpserver: HTTPServer) -> None:
    errors = [{"type": "FORBIDDEN", "message": "Resource not accessible by integration"}]
    httpserver.expect_request("/graphql").respond_with_json({"data": {"resolveReviewThread": None}, "errors": errors})
    client = GitHubClient(httpserver.url_for(""), "t")
    with pytest.raises(Forbidden, match=r"\(FORBIDDEN: Resource not accessible by integration\)"):
        client.graphql(gql.RESOLVE_MUTATION, {"thread": "PRRT_x"})


def test_graphql_requests_share_the_clients_retries(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/graphql").respond_with_data("bad gateway", status=502)
    httpserver.expect_ordered_request("/graphql").respond_with_json(
        {"message": "You have exceeded a secondary rate limit"}, status=403, headers={"retry-after": "2"}
    )
    httpserver.expect_ordered_request("/graphql").respond_with_json({"data": {"ok": True}})
    slept: list[float] = []
    client = GitHubClient(httpserver.url_for(""), "t", policy=RetryPolicy(max_wait_s=10), sleep=slept.append)
    assert client.graphql("query { viewer { login } }", {}) == {"ok": True}
    assert slept == [1.0, 2.0]


def test_the_client_never_posts_to_another_origin(httpserver: HTTPServer) -> None:
    client = GitHubClient(httpserver.url_for(""), "t")
    with pytest.raises(PostError, match="another host: evil.example"):
        client.post_url("https://evil.example/graphql", {"query": "{ viewer { login } }"})
    assert httpserver.log == []
