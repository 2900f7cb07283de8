"""The shared REST client's host-neutral mechanisms against real local servers: GitLab's
`X-Next-Page` pagination beside `Link`, GitLab's `RateLimit-*` headers and a bare 429, and a
host's own name and hints in its errors."""

from __future__ import annotations

import json
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.errors import PostError
from reviewer.post.hosts.rest import DEFAULT_RATE_LIMIT_WAIT, HostApi, Refused, RestClient

API = HostApi(
    name="Forge",
    auth_headers=lambda token: {"PRIVATE-TOKEN": token},
    refused=frozenset({400}),
    page_size=("per_page", 2),
    hints={404: "check --repo"},
)


def test_x_next_page_is_followed_on_the_url_just_read(httpserver: HTTPServer) -> None:
    seen: list[str] = []

    def handler(request: Request) -> Response:
        seen.append(request.query_string.decode())
        assert request.headers["PRIVATE-TOKEN"] == "secret-token-123"
        page = int(request.args.get("page", 1))
        headers = {"X-Next-Page": str(page + 1) if page < 3 else ""}
        return Response(json.dumps([page]), headers=headers)

    httpserver.expect_request("/items").respond_with_handler(handler)
    client = RestClient(httpserver.url_for(""), "secret-token-123", API, sleep=lambda s: None)
    assert client.paginate("/items", {"state": "all"}) == [1, 2, 3]
    assert seen == ["per_page=2&state=all", "per_page=2&state=all&page=2", "per_page=2&state=all&page=3"]


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({}, DEFAULT_RATE_LIMIT_WAIT),  # a bare 429 is still a rate limit: a minute
        ({"Retry-After": "7"}, 7.0),
    ],
)
def test_a_429_waits_as_the_host_says(httpserver: HTTPServer, headers: dict[str, str], expected: float) -> None:
    httpserver.expect_ordered_request("/x").respond_with_json({"message": "slow down"}, status=429, headers=headers)
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    slept: list[float] = []
    client = RestClient(httpserver.url_for(""), "t", API, sleep=slept.append)
    assert client.get("/x") == {"ok": True} and slept == [expected]


def test_gitlab_ratelimit_reset_is_the_wait(httpserver: HTTPServer) -> None:
    reset = str(int(time.time()) + 3)
    httpserver.expect_ordered_request("/x").respond_with_json(
        {"message": "Retry later"}, status=429, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": reset}
    )
    httpserver.expect_ordered_request("/x").respond_with_json({"ok": True})
    slept: list[float] = []
    client = RestClient(httpserver.url_for(""), "t", API, sleep=slept.append)
    assert client.get("/x") == {"ok": True}
    assert len(slept) == 1 and 0 < slept[0] <= 3


def test_errors_name_the_host_and_give_its_hint(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/missing").respond_with_json({"message": "404 Project Not Found"}, status=404)
    httpserver.expect_request("/bad", method="POST").respond_with_json({"message": "line_code invalid"}, status=400)
    client = RestClient(httpserver.url_for(""), "t", API)
    with pytest.raises(PostError) as missing:
        client.get("/missing")
    assert missing.value.message == "Forge found nothing at GET /missing (404)" and missing.value.hint == "check --repo"
    with pytest.raises(Refused, match=r"Forge refused POST /bad \(400 line_code invalid\)"):
        client.post("/bad", {})
