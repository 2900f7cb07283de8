"""What the fake GitLab and Gitea servers share: one catch-all handler on pytest-httpserver
that logs every request, JSON bodies parsed strictly, and request and response bodies checked
against the host's spec, with every mismatch recorded for `assert_valid()`."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.hosts import spec as specs


@dataclass(kw_only=True)
class FakeHost:
    spec_name: str = ""
    log: list[tuple[str, str, Any, int]] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    spec: dict[str, Any] | None = None
    next_id: int = 1000
    rate_limits: int = 0  # that many requests answered 429 with Retry-After
    retry_after: str = "1"
    server_errors: int = 0  # that many requests answered with `server_error`
    # What the host says, as (status, text): GitLab's Rack::Attack and its proxy's 502;
    # a subclass sets its own.
    rate_limit_answer: tuple[int, str] = (429, "Retry later\n")
    server_error: tuple[int, str] = (502, "502 Bad Gateway")

    def serve(self, server: HTTPServer) -> None:
        self.spec = specs.load_spec(self.spec_name)
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    def writes(self) -> list[tuple[str, str, Any, int]]:
        return [entry for entry in self.log if entry[0] != "GET"]

    def assert_valid(self) -> None:
        """Every request and response this fake saw matched the host's schemas."""
        assert self.schema_errors == []

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def handle(self, request: Request) -> Response:
        body, error = _body(request)
        response = self.respond(request, body, error)
        self.log.append((request.method, request.path, body, response.status_code))
        return response

    def fault(self) -> Response | None:
        """The next injected fault, if any are left: rate limits first, then server errors."""
        if self.rate_limits > 0:
            self.rate_limits -= 1
            status, text = self.rate_limit_answer
            headers = {"Retry-After": self.retry_after, "RateLimit-Remaining": "0"}
            return Response(text, status=status, headers=headers, content_type="text/plain")
        if self.server_errors > 0:
            self.server_errors -= 1
            status, text = self.server_error
            return Response(text, status=status, content_type="text/plain")
        return None

    def respond(self, request: Request, body: Any, error: str | None) -> Response:
        raise NotImplementedError

    def body_problems(self, template: str, method: str, body: Any) -> list[str]:
        """How a request body breaks the spec, recorded. A missing body counts as `{}`: fine
        where every field is optional, a problem where the schema requires one."""
        if self.spec is None:
            return []
        schema = specs.request_schema(self.spec, template, method)
        if schema is None:
            return []
        found = specs.problems(schema, body if body is not None else {})
        self.schema_errors.extend(f"{method} {template}: {p}" for p in found)
        return found

    def answer(
        self,
        template: str,
        method: str,
        data: Any,
        status: int = 200,
        headers: dict[str, str] | None = None,
        schema_status: int | None = None,
    ) -> Response:
        """A JSON response, checked against the spec's schema for it where there is one."""
        if self.spec is not None:
            schema = specs.response_schema(self.spec, template, method, schema_status or status)
            if schema is not None:
                found = specs.problems(schema, specs.without_nulls(data))
                self.schema_errors.extend(f"response to {method} {template}: {p}" for p in found)
        return json_response(data, status, headers)


def _body(request: Request) -> tuple[Any, str | None]:
    """The JSON body, or why it is not one. GitLab also takes form and query encodings; the
    posters send JSON, so anything else is flagged."""
    if not request.data:
        return None, None
    if not (request.mimetype or "").endswith("json"):
        return None, f"body is {request.mimetype or 'untyped'}, not application/json"
    try:
        return json.loads(request.data), None
    except ValueError:
        return None, "body is not valid JSON"


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
    )


def made_up_sha(seed: str) -> str:
    """A commit id for a version a test did not build from a repository."""
    return hashlib.sha1(seed.encode()).hexdigest()  # noqa: S324
