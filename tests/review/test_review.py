"""The review loop: status, errors, retries of invalid answers, stats, cache seam, exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.backends.interface import (
    ChunkFailedError,
    ModelReply,
    ServerInfo,
    TransientModelError,
)
from reviewer.chunks import prompt
from reviewer.errors import ConfigError, ExitCode, InvalidAnswerError, ModelError, UsageError
from reviewer.findings.verdict import verdict
from reviewer.models import ReviewPlan, Severity, SkippedFile, Status
from reviewer.review.loop import cache_key, review
from reviewer.settings.config import Backend
from reviewer.settings.slices import ModelSettings, ReviewSettings
from tests.model_fakes import (
    DIGEST,
    MODEL,
    InFlight,
    answer,
    app_chunk,
    finding,
    ndjson_bytes,
    ollama_stream,
    openai_completion,
    requests_to,
    serve_ollama_chat,
    serve_ollama_preflight,
    serve_openai_models,
)


class FakeBackend:
    """A ModelBackend that plays back scripted answers (str) or errors, and records calls."""

    def __init__(self, *script: str | Exception, preflight_error: Exception | None = None) -> None:
        self.script = list(script)
        self.preflight_error = preflight_error
        self.calls: list[tuple[str, str]] = []
        self.schemas: list[dict[str, Any]] = []

    @property
    def name(self) -> str:
        return "ollama"

    def preflight(self) -> ServerInfo:
        if self.preflight_error is not None:
            raise self.preflight_error
        return ServerInfo(model=MODEL, digest=DIGEST)

    def request_body(self, system: str, user: str, *, schema: dict[str, Any]) -> bytes:
        return json.dumps({"system": system, "user": user, "schema": schema}).encode()

    def chat(self, body: bytes, *, estimated_prompt_tokens: int) -> ModelReply:
        sent = json.loads(body)
        self.calls.append((sent["system"], sent["user"]))
        self.schemas.append(sent["schema"])
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return ModelReply(content=item, prompt_tokens=100, completion_tokens=10, cached_tokens=5)

    def generation_options(self) -> dict[str, Any]:
        return {"temperature": 0}

    def close(self) -> None:
        pass


class DictCache:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.data.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.data[key] = value


def plan(n: int = 2) -> ReviewPlan:
    return ReviewPlan(
        base="a" * 40,
        head="b" * 40,
        chunks=tuple(app_chunk(i) for i in range(n)),
        skipped=(SkippedFile(path="poetry.lock", reason="lockfile"),),
    )


def run(backend: FakeBackend, p: ReviewPlan | None = None, **over: Any) -> tuple[Any, str]:
    settings = ReviewSettings(no_cache=True, **over)
    err = io.StringIO()
    doc = review(ModelSettings(), p or plan(), settings, backend=backend, stream=err)
    return doc, err.getvalue()


def test_complete_review() -> None:
    backend = FakeBackend(answer(finding(line=2)), answer(finding(line=4, severity="low")))
    doc, err = run(backend)
    assert doc.status is Status.COMPLETE
    assert [(f.line, f.severity) for f in doc.findings] == [(2, Severity.HIGH), (4, Severity.LOW)]
    assert (doc.base, doc.head) == ("a" * 40, "b" * 40)
    assert doc.model.digest == DIGEST
    assert doc.skipped[0].reason == "lockfile"
    s = doc.stats
    assert (s.chunks, s.chunks_failed, s.model_calls, s.files_reviewed) == (2, 0, 2, 1)
    assert (s.prompt_tokens, s.completion_tokens, s.cached_prompt_tokens) == (200, 20, 10)
    assert s.estimated_prompt_tokens > 2 * prompt.prompt_overhead_tokens()
    assert doc.errors == ()
    assert "complete: 1 file reviewed, 1 skipped; 2 findings (1 high, 1 low)" in err
    ratio = s.estimated_prompt_tokens / 200
    assert f"200 prompt (estimated {s.estimated_prompt_tokens}, {ratio:.2f}x)" in err


def test_system_prompt_first_and_identical_chunk_last() -> None:
    backend = FakeBackend(answer())
    run(backend)
    systems = {system for system, _ in backend.calls}
    assert systems == {prompt.SYSTEM_PROMPT}
    assert backend.calls[0][1] == prompt.render_user_message(app_chunk().text)


def test_every_request_carries_the_schema_the_loop_built() -> None:
    backend = FakeBackend("junk", answer())
    run(backend, plan(1), max_findings=4)
    assert backend.schemas == [prompt.findings_schema(4)] * 2  # the retry too


def test_empty_plan_is_complete_without_any_request() -> None:
    # No backend given and an unroutable URL: any request would fail the review.
    model = ModelSettings(base_url="http://127.0.0.1:9")
    doc = review(model, ReviewPlan(), ReviewSettings(no_cache=True), stream=io.StringIO())
    assert doc.status is Status.COMPLETE
    assert doc.stats.model_calls == 0
    assert verdict(doc, None, optional=False) is ExitCode.OK


def test_invalid_answer_is_retried_once_then_accepted() -> None:
    backend = FakeBackend("Sure! Here are the findings:", answer(finding()))
    doc, _ = run(backend, plan(1))
    assert doc.status is Status.COMPLETE
    assert doc.stats.model_calls == 2
    assert len(doc.findings) == 1
    # The estimate covers the same two requests the server counted.
    one = prompt.prompt_overhead_tokens() + prompt.estimate_tokens(plan(1).chunks[0].text)
    assert doc.stats.estimated_prompt_tokens == 2 * one


def test_invalid_twice_fails_the_chunk_and_goes_on() -> None:
    backend = FakeBackend("nope", '{"findings": "none"}', answer(finding()))
    doc, err = run(backend)
    assert doc.status is Status.PARTIAL
    assert doc.stats.chunks_failed == 1
    assert doc.stats.model_calls == 3
    assert len(doc.findings) == 1  # from the chunk that completed
    assert doc.errors[0].kind == "invalid_answer"
    assert doc.errors[0].message.startswith("chunk 1: the answer was invalid twice")
    assert "reviewer: error: review not completed (partial)" in err
    assert "hint:" in err
    assert verdict(doc, None, optional=False) is ExitCode.NOT_REVIEWED


def test_cut_off_answer_counts_as_invalid() -> None:
    cut = InvalidAnswerError("cut", kind="answer_cut_off", prompt_tokens=100, completion_tokens=1024)
    doc, _ = run(FakeBackend(cut, answer()), plan(1))
    assert doc.status is Status.COMPLETE
    assert doc.stats.model_calls == 2
    # The cut-off answer cost tokens too: both calls are counted.
    assert (doc.stats.prompt_tokens, doc.stats.completion_tokens) == (200, 1034)


def test_truncated_chunk_fails_alone() -> None:
    truncated = ChunkFailedError("truncated", kind="truncated_prompt")
    doc, _ = run(FakeBackend(truncated, answer()))
    assert doc.status is Status.PARTIAL
    assert [e.kind for e in doc.errors] == ["truncated_prompt"]
    assert doc.stats.model_calls == 2


def test_server_failure_stops_sending() -> None:
    down = TransientModelError("could not reach the model server", "start it")
    backend = FakeBackend(answer(finding()), down)
    doc, err = run(backend, plan(4))
    assert doc.status is Status.PARTIAL
    assert len(backend.calls) == 2
    assert doc.stats.chunks_failed == 3
    assert [e.kind for e in doc.errors] == ["unreachable", "not_sent"]
    assert doc.errors[1].message == "2 chunks not sent after the model server failed"
    assert "hint: start it" in err
    one_left, _ = run(FakeBackend(answer(finding()), down), plan(3))
    assert one_left.errors[1].message == "1 chunk not sent after the model server failed"


def test_all_chunks_failed_is_failed_or_skipped_when_optional() -> None:
    down = ModelError("timed out", kind="timeout")
    doc, _ = run(FakeBackend(down))
    assert doc.status is Status.FAILED
    assert verdict(doc, None, optional=False) is ExitCode.NOT_REVIEWED
    doc, err = run(FakeBackend(down), optional=True)
    assert doc.status is Status.SKIPPED
    assert verdict(doc, None, optional=True) is ExitCode.OK
    assert "reviewer: warning:" in err and "LOCAL_LLM_OPTIONAL" in err


def test_preflight_failure_reviews_nothing() -> None:
    missing = ModelError("model x missing", "run `ollama pull x`", kind="model_missing")
    backend = FakeBackend(answer(), preflight_error=missing)
    doc, err = run(backend)
    assert backend.calls == []
    assert doc.status is Status.FAILED
    assert doc.errors[0].kind == "model_missing"
    assert doc.stats.chunks_failed == 2
    assert "hint: run `ollama pull x`" in err


def test_config_error_in_preflight_is_not_swallowed() -> None:
    backend = FakeBackend(answer(), preflight_error=ConfigError("num_ctx too big"))
    with pytest.raises(ConfigError):
        run(backend, optional=True)


def test_usage_error_for_ollama_concurrency_even_with_empty_plan() -> None:
    with pytest.raises(UsageError):
        review(ModelSettings(concurrency=2), ReviewPlan(), stream=io.StringIO())


def test_partial_with_findings_under_optional_exits_on_fail_on() -> None:
    down = ChunkFailedError("too long", kind="prompt_too_long")
    doc, _ = run(FakeBackend(answer(finding(severity="critical")), down), optional=True)
    assert doc.status is Status.PARTIAL
    assert verdict(doc, Severity.HIGH, optional=True) is ExitCode.FINDINGS


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [(None, ExitCode.OK), (Severity.HIGH, ExitCode.FINDINGS), (Severity.CRITICAL, ExitCode.OK)],
)
def test_fail_on_threshold(fail_on: Severity | None, expected: ExitCode) -> None:
    doc, _ = run(FakeBackend(answer(finding(severity="high"))))
    assert verdict(doc, fail_on, optional=False) is expected


def test_dropped_findings_are_counted() -> None:
    doc, _ = run(FakeBackend(answer(finding(), finding(path="x.py"), finding(line=1))), plan(1))
    assert doc.stats.findings_dropped == 2
    assert len(doc.findings) == 1


def test_duplicates_across_chunks_appear_once() -> None:
    doc, _ = run(FakeBackend(answer(finding())))  # both chunks show the same lines
    assert len(doc.findings) == 1


# --- the cache seam ------------------------------------------------------------------------


def test_cache_hit_makes_no_model_call() -> None:
    cache = DictCache()
    first = FakeBackend(answer(finding()))
    review(ModelSettings(), plan(1), backend=first, cache=cache, stream=io.StringIO())
    assert len(cache.data) == 1
    (value,) = cache.data.values()
    assert value["content"] == answer(finding())
    second = FakeBackend(answer())
    doc = review(ModelSettings(), plan(1), backend=second, cache=cache, stream=io.StringIO())
    assert second.calls == []
    assert len(doc.findings) == 1
    assert (doc.stats.cache_hits, doc.stats.cache_misses, doc.stats.model_calls) == (1, 0, 0)
    assert (doc.stats.prompt_tokens, doc.stats.estimated_prompt_tokens) == (0, 0)


def test_invalid_answers_are_not_cached_and_bad_entries_are_misses() -> None:
    cache = DictCache()
    review(ModelSettings(), plan(1), backend=FakeBackend("junk"), cache=cache, stream=io.StringIO())
    assert cache.data == {}
    backend = FakeBackend(answer())
    settings = ModelSettings()
    k = cache_key(
        backend="ollama",
        model=settings.model,
        digest=DIGEST,
        options=backend.generation_options(),
        chunk_text=app_chunk().text,
    )
    cache.data[k] = {"content": "not json"}
    doc = review(settings, plan(1), backend=backend, cache=cache, stream=io.StringIO())
    assert len(backend.calls) == 1
    assert doc.stats.cache_misses == 1


def test_cache_key_changes_with_every_input() -> None:
    base: dict[str, Any] = {
        "backend": "ollama",
        "model": "m",
        "digest": "d",
        "options": {"num_ctx": 8192},
        "chunk_text": "t",
    }
    keys = {cache_key(**base)}
    for field, other in [
        ("backend", "openai"),
        ("model", "n"),
        ("digest", None),
        ("options", {"num_ctx": 4096}),
        ("chunk_text", "u"),
    ]:
        keys.add(cache_key(**{**base, field: other}))
    assert len(keys) == 6
    assert cache_key(**base) == cache_key(**dict(base))


def test_cache_on_disk_from_settings(tmp_path: Path) -> None:
    settings = ReviewSettings(cache_dir=tmp_path / "cache")
    review(ModelSettings(), plan(1), settings, backend=FakeBackend(answer()), stream=io.StringIO())
    second = FakeBackend(answer())
    doc = review(ModelSettings(), plan(1), settings, backend=second, stream=io.StringIO())
    assert second.calls == []
    assert doc.stats.cache_hits == 1


# --- through real HTTP ---------------------------------------------------------------------


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REVIEWER_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))


@pytest.fixture
def server(fast: None) -> Any:
    s = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    s.start()
    yield s
    s.clear()
    s.stop()


NO_CACHE = ReviewSettings(no_cache=True)


def http_settings(server: HTTPServer, **over: Any) -> ModelSettings:
    return ModelSettings(base_url=server.url_for("/").rstrip("/"), timeout=5, retries=1, **over)


def test_ollama_end_to_end_over_http(server: HTTPServer) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, ["garbage", answer(finding()), answer()])
    doc = review(http_settings(server), plan(2), NO_CACHE, stream=io.StringIO())
    assert doc.status is Status.COMPLETE
    assert len(requests_to(server, "/api/chat")) == 3
    assert doc.stats.model_calls == 3
    assert len(doc.findings) == 1


def test_the_loop_hands_the_backend_the_schema_for_max_findings(server: HTTPServer) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    settings = ReviewSettings(no_cache=True, max_findings=3)
    review(http_settings(server), plan(1), settings, stream=io.StringIO())
    body = requests_to(server, "/api/chat")[0].get_json()
    assert body["format"] == prompt.findings_schema(3)
    assert body["format"]["properties"]["findings"]["maxItems"] == 3


def test_ollama_requests_never_overlap(server: HTTPServer) -> None:
    serve_ollama_preflight(server)
    ok = ndjson_bytes(ollama_stream(answer()))
    counter = InFlight(lambda _: Response(ok, mimetype="application/x-ndjson"))
    server.expect_request("/api/chat").respond_with_handler(counter)
    doc = review(http_settings(server), plan(4), NO_CACHE, stream=io.StringIO())
    assert doc.status is Status.COMPLETE
    assert (counter.total, counter.peak) == (4, 1)


def test_openai_concurrency_allows_parallel_requests(server: HTTPServer) -> None:
    serve_openai_models(server)
    body = openai_completion(answer())

    def ok(_: Request) -> Response:
        import json

        return Response(json.dumps(body), mimetype="application/json")

    counter = InFlight(ok, hold=0.2)
    server.expect_request("/v1/chat/completions").respond_with_handler(counter)
    settings = http_settings(server, backend=Backend.OPENAI, model=MODEL, concurrency=3)
    doc = review(settings, plan(6), NO_CACHE, stream=io.StringIO())
    assert doc.status is Status.COMPLETE
    assert counter.total == 6
    assert 1 <= counter.peak <= 3


def test_openai_concurrency_one_never_overlaps(server: HTTPServer) -> None:
    serve_openai_models(server)
    body = openai_completion(answer())

    def ok(_: Request) -> Response:
        import json

        return Response(json.dumps(body), mimetype="application/json")

    counter = InFlight(ok)
    server.expect_request("/v1/chat/completions").respond_with_handler(counter)
    settings = http_settings(server, backend=Backend.OPENAI, model=MODEL)
    review(settings, plan(3), NO_CACHE, stream=io.StringIO())
    assert (counter.total, counter.peak) == (3, 1)


# --- progress ------------------------------------------------------------------------------


def test_plain_progress_lines_when_not_a_tty() -> None:
    from reviewer.review.progress import ReviewProgress

    out = io.StringIO()
    with ReviewProgress(3, out, interval=0) as progress:
        for _ in range(3):
            progress.advance(10)
    lines = out.getvalue().splitlines()
    assert [ln.split(",")[0] for ln in lines] == [
        "reviewer: chunk 1/3 done",
        "reviewer: chunk 2/3 done",
        "reviewer: chunk 3/3 done",
    ]
    assert "tokens/s" in lines[-1]
    assert "left" in lines[0] and "left" not in lines[-1]


def test_progress_lines_are_throttled_but_the_last_is_always_shown() -> None:
    from reviewer.review.progress import ReviewProgress

    out = io.StringIO()
    with ReviewProgress(5, out, interval=3600) as progress:
        for _ in range(5):
            progress.advance(1)
    lines = out.getvalue().splitlines()
    assert [ln.split(",")[0] for ln in lines] == [
        "reviewer: chunk 1/5 done",
        "reviewer: chunk 5/5 done",
    ]


def test_bar_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.review.progress import use_bar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    assert use_bar(Tty()) is True
    assert use_bar(io.StringIO()) is False
    monkeypatch.setenv("CI", "true")
    assert use_bar(Tty()) is False


def test_a_terminal_gets_a_bar_of_chunks_with_the_one_being_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reviewer.review.progress import ReviewProgress
    from tests.model_fakes import app_chunk

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("CI", raising=False)
    out = Tty()
    with ReviewProgress(2, out, interval=0) as progress:
        progress.sending(app_chunk())
        progress.advance(10)
    shown = out.getvalue()
    assert "reviewing" in shown and "1/2" in shown and "chunks" in shown
    assert "now #1 ~" in shown  # the chunk awaiting its answer shares the bar's line
    assert "reviewer: chunk" not in shown and "reviewer: reviewing" not in shown


def test_the_first_chunk_is_announced_at_once_then_a_heartbeat_while_waiting() -> None:
    import time

    from reviewer.chunks.prompt import prompt_overhead_tokens
    from reviewer.review.progress import ReviewProgress
    from tests.model_fakes import app_chunk

    chunk = app_chunk()
    tokens = chunk.estimated_tokens + prompt_overhead_tokens()
    out = io.StringIO()
    with ReviewProgress(2, out, interval=0.05) as progress:
        progress.sending(chunk)
        assert out.getvalue() == (
            f"reviewer: reviewing chunk 1/2 (~{tokens} prompt tokens); the first answer can "
            "take minutes on a CPU\n"
        )
        time.sleep(0.3)  # the model has not answered yet
        progress.advance(10)
    lines = out.getvalue().splitlines()
    waiting = [ln for ln in lines if ln.startswith("reviewer: waiting")]
    assert waiting, lines
    assert waiting[0].startswith(f"reviewer: waiting for the answer to chunk 1/2 (~{tokens} prompt")
    assert waiting[0].endswith("s so far; 0/2 done")
    assert lines[-1].startswith("reviewer: chunk 1/2 done")


def test_no_heartbeat_before_anything_is_sent() -> None:
    import time

    from reviewer.review.progress import ReviewProgress

    out = io.StringIO()
    with ReviewProgress(2, out, interval=0.02):
        time.sleep(0.15)
    assert out.getvalue() == ""


def test_no_waiting_line_once_every_chunk_is_done() -> None:
    import time

    from reviewer.review.progress import ReviewProgress
    from tests.model_fakes import app_chunk

    out = io.StringIO()
    with ReviewProgress(1, out, interval=0.02) as progress:
        progress.sending(app_chunk())
        progress.advance(1)
        time.sleep(0.15)  # several heartbeats pass after the last chunk
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("reviewer: chunk 1/1 done")
    assert not [ln for ln in lines if ln.startswith("reviewer: waiting")]
