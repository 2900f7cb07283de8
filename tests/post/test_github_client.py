"""The GitHub client and target resolution against real local servers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.errors import PostError, UsageError
from reviewer.post.hosts.github import GitHubClient, pull_path
from reviewer.post.hosts.rest import RetryPolicy, next_link
from reviewer.post.target import resolve_target
from reviewer.security import check_token_url


def test_next_link_parses_github_link_headers() -> None:
    header = '<https://api.x/r?page=2>; rel="next", <https://api.x/r?page=5>; rel="last"'
    assert next_link(header) == "https://api.x/r?page=2"
    assert next_link('<https://api.x/r?page=1>; rel="prev"') is None and next_link(None) is None


def test_pagination_follows_links_and_honours_per_page(httpserver: HTTPServer) -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.query_string.decode())
        page = int(request.args.get("page", 1))
        headers = {}
        if page < 3:
            headers["Link"] = f'<{httpserver.url_for("/items")}?per_page=2&page={page + 1}>; rel="next"'
        return Response(json.dumps([page * 10, page * 10 + 1]), headers=headers)

    httpserver.expect_request("/items").respond_with_handler(handler)
    client = GitHubClient(httpserver.url_for(""), "t", sleep=lambda s: None)
    assert client.paginate("/items", per_page=2) == [10, 11, 20, 21, 30, 31]
    assert seen == ["per_page=2", "per_page=2&page=2", "per_page=2&page=3"]


def test_pagination_never_follows_a_link_to_another_host(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/items").respond_with_json(
        [1], headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'}
    )
    client = GitHubClient(httpserver.url_for(""), "t")
    with pytest.raises(PostError, match="another host"):
        client.paginate("/items")


def test_primary_rate_limit_waits_until_reset(httpserver: HTTPServer) -> None:
    reset = str(int(time.time()) + 3)
    httpserver.expect_ordered_request("/x").respond_with_json(
        {"message": "API rate limit exceeded"}, status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset},
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    slept: list[float] = []
    client = GitHubClient(httpserver.url_for(""), "t", sleep=slept.append)
    assert client.get("/x") == {"ok": True}
    assert len(slept) == 1 and 0 < slept[0] <= 3


def test_unreachable_server_gives_post_error_after_bounded_retries() -> None:
    slept: list[float] = []
    policy = RetryPolicy(max_wait_s=10, max_attempts=3, backoff_s=1)
    client = GitHubClient("http://127.0.0.1:9", "t", policy=policy, sleep=slept.append)
    with pytest.raises(PostError, match="could not reach GitHub"):
        client.get("/x")
    assert slept == [1, 2]


def test_target_from_the_event(tmp_path: Path) -> None:
    event = tmp_path / "e.json"
    sha = "abc" + "0" * 37  # the event's SHA is checked like every CI value (ci.environment)
    event.write_text(json.dumps({"pull_request": {"number": 12, "head": {"sha": sha}}}))
    env = {"GITHUB_REPOSITORY": "o/r", "GITHUB_EVENT_PATH": str(event)}
    target = resolve_target(env, None, None, None)
    assert (target.repo, target.number, target.head_sha) == ("o/r", 12, sha)
    assert target.api_url == "https://api.github.com"
    assert pull_path(resolve_target(env, "x/y", 3, "https://ghe.example/api/v3/")) == "/repos/x/y/pulls/3"


def test_target_errors_are_usage_errors(tmp_path: Path) -> None:
    push = tmp_path / "push.json"
    push.write_text(json.dumps({"ref": "refs/heads/main"}))
    with pytest.raises(UsageError, match="not a pull_request event"):
        resolve_target({"GITHUB_REPOSITORY": "o/r", "GITHUB_EVENT_PATH": str(push)}, None, None, None)
    with pytest.raises(UsageError, match="no repository"):
        resolve_target({}, "not a repo", 1, None)
    with pytest.raises(UsageError, match="unencrypted"):
        check_token_url("http://github.example.com/api", "--api-url")
    assert check_token_url("http://127.0.0.1:8080/", "--api-url") == "http://127.0.0.1:8080"
