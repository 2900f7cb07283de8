"""Several model servers in one review (backends/pool.py, review/loop.py): the chunks spread
over real fake servers on 127.0.0.1, one request at a time per Ollama server, a failing server
taken out and its chunk answered by another, fail-closed when none is left, the preflight of
every server, and the document's record of who answered each chunk."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.errors import ExitCode
from reviewer.findings.verdict import verdict
from reviewer.models import Chunk, ChunkFile, FindingsDocument, ReviewPlan, Status
from reviewer.review.loop import CACHE, review
from reviewer.settings.config import Backend
from reviewer.settings.slices import ModelSettings, ReviewSettings
from tests.model_fakes import (
    APP_CHUNK_NEW_TEXTS,
    APP_CHUNK_TEXT,
    DIGEST,
    MODEL,
    InFlight,
    answer,
    app_chunk,
    closed_port_url,
    finding,
    ndjson_bytes,
    ollama_stream,
    openai_completion,
    requests_to,
    serve_ollama_preflight,
    serve_openai_models,
)

NO_CACHE = ReviewSettings(no_cache=True)
OTHER_DIGEST = "1" * 64


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWER_RETRY_BASE_DELAY", "0.001")


def url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


def chunk(i: int) -> Chunk:
    """A chunk of its own file (src/m<i>.py), so each chunk's finding is a finding of its own."""
    base = app_chunk(i)
    path = f"src/m{i}.py"
    text = APP_CHUNK_TEXT.replace("src/app.py", path)
    files = (base.files[0].model_copy(update={"path": path}),)
    assert isinstance(files[0], ChunkFile) and files[0].new_texts == APP_CHUNK_NEW_TEXTS
    return base.model_copy(update={"files": files, "text": text})


def plan(n: int) -> ReviewPlan:
    return ReviewPlan(base="a" * 40, head="b" * 40, chunks=tuple(chunk(i) for i in range(n)))


def by_file(request: Request) -> Response:
    """/api/chat: one finding on line 2 of the file the chunk shows."""
    message = request.get_json()["messages"][-1]["content"]
    path = message.split('=== FILE "', 1)[1].split('"', 1)[0]
    content = answer(finding(path=path, line=2, title=f"Bug in {path}"))
    return Response(ndjson_bytes(ollama_stream(content)), mimetype="application/x-ndjson")


def openai_by_file(request: Request) -> Response:
    message = request.get_json()["messages"][-1]["content"]
    path = message.split('=== FILE "', 1)[1].split('"', 1)[0]
    content = answer(finding(path=path, line=2, title=f"Bug in {path}"))
    return Response(json.dumps(openai_completion(content)), mimetype="application/json")


def pool_settings(urls: list[str], **over: Any) -> ModelSettings:
    values: dict[str, Any] = {"servers": tuple(urls), "timeout": 5, "retries": 1}
    values.update(over)
    return ModelSettings(**values)


def comparable(doc: FindingsDocument) -> dict[str, Any]:
    """The document without who answered and how long it took."""
    data = doc.model_dump(mode="json")
    data["model"].pop("servers")
    data.pop("chunks")
    data["stats"].pop("duration_s")
    return data


def test_chunks_spread_over_ollama_servers_one_request_at_a_time_each(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    pool = servers(4)
    counters = []
    for s in pool:
        serve_ollama_preflight(s)
        counters.append(InFlight(by_file, hold=0.05))
        s.expect_request("/api/chat").respond_with_handler(counters[-1])
    doc = review(pool_settings([url(s) for s in pool]), plan(12), NO_CACHE, stream=io.StringIO())
    assert doc.status is Status.COMPLETE
    assert [c.peak for c in counters] == [1, 1, 1, 1]  # never two in flight on one server
    assert all(c.total >= 1 for c in counters) and sum(c.total for c in counters) == 12
    assert [r.chunk for r in doc.chunks] == list(range(1, 13))
    answered = {r.server for r in doc.chunks}
    assert answered == {url(s) for s in pool}
    for s, c in zip(pool, counters, strict=True):
        assert sum(r.server == url(s) for r in doc.chunks) == c.total
    assert [s.url for s in doc.model.servers] == [url(s) for s in pool]
    # The same document as one server gives, apart from who answered and the timings.
    alone = review(pool_settings([url(pool[0])]), plan(12), NO_CACHE, stream=io.StringIO())
    assert comparable(doc) == comparable(alone)
    assert [f.path for f in doc.findings] == sorted(f"src/m{i}.py" for i in range(12))


def test_openai_servers_take_up_to_concurrency_each(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    pool = servers(2)
    counters = []
    for s in pool:
        serve_openai_models(s)
        counters.append(InFlight(openai_by_file, hold=0.2))
        s.expect_request("/v1/chat/completions").respond_with_handler(counters[-1])
    settings = pool_settings(
        [url(s) for s in pool], backend=Backend.OPENAI, model=MODEL, concurrency=2
    )
    doc = review(settings, plan(8), NO_CACHE, stream=io.StringIO())
    assert doc.status is Status.COMPLETE
    assert [c.total for c in counters] != [8, 0] and sum(c.total for c in counters) == 8
    assert all(1 <= c.peak <= 2 for c in counters)
    assert len(doc.findings) == 8


class FailsAfter:
    """/api/chat that answers `good` requests, then fails every one with HTTP 500."""

    def __init__(self, good: int) -> None:
        self.good = good
        self.seen = 0
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        with self.lock:
            self.seen += 1
            failing = self.seen > self.good
        if failing:
            return Response("boom", status=500)
        return by_file(request)


def test_a_server_failing_mid_run_is_dropped_and_another_answers_its_chunk(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    bad, good = servers(2)
    for s in (bad, good):
        serve_ollama_preflight(s)
    bad.expect_request("/api/chat").respond_with_handler(FailsAfter(good=1))
    good.expect_request("/api/chat").respond_with_handler(InFlight(by_file, hold=0.05))
    err = io.StringIO()
    doc = review(pool_settings([url(bad), url(good)]), plan(6), NO_CACHE, stream=err)
    assert doc.status is Status.COMPLETE, doc.errors
    assert len(doc.findings) == 6 and doc.errors == ()
    assert verdict(doc, None, optional=False) is ExitCode.OK
    first, second = doc.model.servers
    assert first.url == url(bad) and first.dropped is not None and "500" in first.dropped
    assert second.dropped is None
    answered_by_bad = [r.chunk for r in doc.chunks if r.server == url(bad)]
    assert len(answered_by_bad) <= 1  # only before it failed
    assert sum(r.server == url(good) for r in doc.chunks) == 6 - len(answered_by_bad)
    # Its failed attempts (first try and one retry) are counted, not hidden.
    assert doc.stats.model_calls == 6 + 1
    assert f"model server {url(bad)} taken out of the rotation" in err.getvalue()


def test_a_single_chunk_fails_over_to_the_second_server(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    bad, good = servers(2)
    for s in (bad, good):
        serve_ollama_preflight(s)
    bad.expect_request("/api/chat").respond_with_data("boom", status=503)
    good.expect_request("/api/chat").respond_with_handler(by_file)
    doc = review(pool_settings([url(bad), url(good)]), plan(1), NO_CACHE, stream=io.StringIO())
    assert doc.status is Status.COMPLETE and len(doc.findings) == 1
    assert [(r.chunk, r.server) for r in doc.chunks] == [(1, url(good))]


def test_every_server_failing_fails_closed_as_one_does(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    pool = servers(2)
    for s in pool:
        serve_ollama_preflight(s)
        s.expect_request("/api/chat").respond_with_data("boom", status=500)
    settings = pool_settings([url(s) for s in pool])
    doc = review(settings, plan(4), NO_CACHE, stream=io.StringIO())
    assert doc.status is Status.FAILED
    assert verdict(doc, None, optional=False) is ExitCode.NOT_REVIEWED
    assert doc.findings == () and doc.chunks == ()
    assert all(s.dropped for s in doc.model.servers)
    kinds = [e.kind for e in doc.errors]
    assert kinds[-1] == "not_sent" and len(kinds) == 2  # one chunk's error, the rest not sent
    # Each server was tried, each with its bounded retries (1 retry): two requests apiece.
    assert [len(requests_to(s, "/api/chat")) for s in pool] == [2, 2]
    optional = ReviewSettings(no_cache=True, optional=True)
    skipped = review(settings, plan(4), optional, stream=io.StringIO())
    assert skipped.status is Status.SKIPPED
    assert verdict(skipped, None, optional=True) is ExitCode.OK


def test_a_digest_that_differs_between_servers_stops_before_any_chunk(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    first, second = servers(2)
    serve_ollama_preflight(first, digest=DIGEST)
    serve_ollama_preflight(second, digest=OTHER_DIGEST)
    for s in (first, second):
        s.expect_request("/api/chat").respond_with_handler(by_file)
    doc = review(pool_settings([url(first), url(second)]), plan(3), NO_CACHE,
                 stream=io.StringIO())
    assert doc.status is Status.FAILED
    (error, *_) = doc.errors
    assert error.kind == "digest_mismatch"
    assert url(first) in error.message and url(second) in error.message
    assert DIGEST[:12] in error.message and OTHER_DIGEST[:12] in error.message
    assert [len(requests_to(s, "/api/chat")) for s in (first, second)] == [0, 0]
    assert verdict(doc, None, optional=False) is ExitCode.NOT_REVIEWED


def test_a_server_missing_the_model_stops_the_review(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    first, second = servers(2)
    serve_ollama_preflight(first)
    serve_ollama_preflight(second, model="another:1b")
    for s in (first, second):
        s.expect_request("/api/chat").respond_with_handler(by_file)
    doc = review(pool_settings([url(first), url(second)]), plan(2), NO_CACHE,
                 stream=io.StringIO())
    assert doc.status is Status.FAILED and doc.errors[0].kind == "model_missing"
    assert url(second) in doc.errors[0].message
    assert len(requests_to(first, "/api/chat")) == 0


def test_an_unreachable_server_is_left_out_and_the_others_review(
    servers: Callable[[int], list[HTTPServer]],
) -> None:
    (good,) = servers(1)
    serve_ollama_preflight(good)
    good.expect_request("/api/chat").respond_with_handler(by_file)
    down = closed_port_url()
    err = io.StringIO()
    doc = review(pool_settings([down, url(good)]), plan(3), NO_CACHE, stream=err)
    assert doc.status is Status.COMPLETE and len(doc.findings) == 3
    assert doc.model.servers[0].url == down and doc.model.servers[0].dropped
    assert {r.server for r in doc.chunks} == {url(good)}
    assert f"model server {down} taken out of the rotation" in err.getvalue()


def test_answers_from_the_cache_are_recorded_as_such(
    servers: Callable[[int], list[HTTPServer]], tmp_path: Any
) -> None:
    pool = servers(2)
    for s in pool:
        serve_ollama_preflight(s)
        s.expect_request("/api/chat").respond_with_handler(by_file)
    settings = pool_settings([url(s) for s in pool])
    cached = ReviewSettings(cache_dir=tmp_path / "cache")
    first = review(settings, plan(4), cached, stream=io.StringIO())
    again = review(settings, plan(4), cached, stream=io.StringIO())
    assert {r.server for r in first.chunks} <= {url(s) for s in pool}
    assert [r.server for r in again.chunks] == [CACHE] * 4
    assert again.stats.model_calls == 0
    assert comparable(first)["findings"] == comparable(again)["findings"]
