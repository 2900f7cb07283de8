"""Faults from the model server (issue 7): each one ends in its documented outcome, within a
bounded time, with no traceback. Byte-level faults use a raw TCP server (raw_server.py); the
rest use pytest-httpserver. A representative subset goes through the real CLI as a subprocess.

Time bounds are test-level timeouts (`within`, subprocess timeouts), never assertions on
elapsed seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.backends import make_backend
from reviewer.backends.interface import MAX_ANSWER_BYTES, ModelReply, TransientModelError
from reviewer.backends.ollama import same_model
from reviewer.backends.openai import same_served_model
from reviewer.backends.retry import RetryPolicy
from reviewer.chunks.prompt import DEFAULT_MAX_FINDINGS, MAX_FINDINGS_PER_CHUNK, findings_schema
from reviewer.errors import (
    InvalidAnswerError,
    ModelError,
)
from reviewer.findings.answer import parse_answer, validate
from reviewer.settings.config import Backend
from tests.model_fakes import (
    APP_DIFF,
    DIGEST,
    MODEL,
    answer,
    app_chunk,
    backend_settings,
    count_reply,
    finding,
    ndjson_bytes,
    ollama_stream,
    openai_completion,
    review_chats,
    serve_ollama_preflight,
    serve_openai_models,
)
from tests.reliability.raw_server import Conn, RawServer, raw_server

T = TypeVar("T")
MB = 1_000_000

# --- helpers -------------------------------------------------------------------------------


def within(seconds: float, fn: Callable[[], T]) -> T:
    """Run fn on a thread; fail the test (instead of hanging the suite) if it does not end."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as e:  # handed back to the test thread
            box["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after the test's {seconds} s limit: the client hung")
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REVIEWER_RETRY_BASE_DELAY", "0.001")
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))


def chat(url: str, **over: Any) -> ModelReply:
    backend = make_backend(backend_settings(url, **over))
    try:
        body = backend.request_body("SYS", "USER", schema=findings_schema())
        return backend.chat(body, estimated_prompt_tokens=500)
    finally:
        backend.close()


def chat_error(url: str, seconds: float = 30, **over: Any) -> ModelError:
    def go() -> ModelError:
        with pytest.raises(ModelError) as e:
            chat(url, **over)
        return e.value

    return within(seconds, go)


PREFLIGHT: dict[str, Any] = {
    "/api/version": {"version": "0.5.1"},
    "/api/show": {"model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32768}},
    "/api/tags": {"models": [{"name": MODEL, "model": MODEL, "digest": DIGEST}]},
}


class OllamaRaw:
    """A raw-socket Ollama: preflight answered normally, /api/chat by the test's function,
    which gets the connection and the number of chat requests before this one."""

    def __init__(self, chat: Callable[[Conn, int], None]) -> None:
        self.chat = chat
        self.chats = 0
        self._lock = threading.Lock()

    def __call__(self, conn: Conn) -> None:
        while (req := conn.read_request()) is not None:
            if req.path in PREFLIGHT:
                conn.respond_json(PREFLIGHT[req.path])
                continue
            with self._lock:
                n = self.chats
                self.chats += 1
            self.chat(conn, n)


def stream_ok(conn: Conn, content: str = answer(), **kw: Any) -> None:
    """A normal chunked NDJSON answer, as Ollama streams it."""
    conn.head(chunked=True)
    for obj in ollama_stream(content, **kw):
        conn.chunk(json.dumps(obj).encode() + b"\n")
    conn.end_chunks()


# --- the CLI as a subprocess ---------------------------------------------------------------

DIFF = APP_DIFF


def many_line_diff(n: int) -> str:
    body = "".join(f"+value_{i} = compute({i}) + other_{i}\n" for i in range(n))
    return (
        "diff --git a/src/app.py b/src/app.py\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/src/app.py\n@@ -0,0 +1,{n} @@\n{body}"
    )


def run_cli(
    tmp_path: Path, url: str, *extra: str, diff: str = DIFF, timeout: float = 90, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    diff_file = tmp_path / "pr.diff"
    diff_file.write_text(diff)
    out = tmp_path / "findings.json"
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    full_env = {
        **keep,
        "REVIEWER_RETRY_BASE_DELAY": "0.001",
        "REVIEWER_LOCK_DIR": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "CI": "true",
        **env,
    }
    flag = "--base-url" if "openai" in extra else "--ollama-url"
    args = ["--diff-file", str(diff_file), flag, url, "--output", str(out), "--no-cache"]
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", *args, *extra],
        env=full_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,  # the test-level bound: a hang fails the test
        check=False,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    doc = json.loads(out.read_text()) if out.exists() else None
    return proc, doc


def kinds(doc: dict[str, Any] | None) -> list[str]:
    assert doc is not None
    return [e["kind"] for e in doc["errors"]]


# --- connection refused --------------------------------------------------------------------


def free_port() -> int:
    with raw_server(lambda conn: None) as s:
        port = s.port
    return port


def test_connection_refused_fails_closed_through_the_cli(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc, doc = run_cli(tmp_path, url, "--retries", "2")
    assert proc.returncode == 3
    assert doc is not None and doc["status"] == "failed"
    assert kinds(doc) == ["unreachable"]
    assert "review not completed (failed)" in proc.stderr
    assert "hint:" in proc.stderr


def test_connection_refused_is_a_warning_when_the_model_is_optional(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    proc, doc = run_cli(tmp_path, url, "--retries", "1", LOCAL_LLM_OPTIONAL="true")
    assert proc.returncode == 0
    assert doc is not None and doc["status"] == "skipped"
    assert kinds(doc) == ["unreachable"]


# --- reset mid-stream ----------------------------------------------------------------------


def reset_mid_stream(conn: Conn, n: int) -> None:
    conn.head(chunked=True)
    conn.chunk(json.dumps(ollama_stream(answer())[0]).encode() + b"\n")
    conn.reset()


def test_reset_mid_stream_is_retried_then_fails() -> None:
    handler = OllamaRaw(reset_mid_stream)
    with raw_server(handler) as s:
        err = chat_error(s.url, retries=2)
    assert isinstance(err, TransientModelError)
    assert err.kind == "connection_lost"
    assert handler.chats == 3  # the first attempt and two retries


def test_a_single_reset_is_retried_and_the_answer_used() -> None:
    def once(conn: Conn, n: int) -> None:
        reset_mid_stream(conn, n) if n == 0 else stream_ok(conn, answer(finding()))

    handler = OllamaRaw(once)
    with raw_server(handler) as s:
        reply = within(30, lambda: chat(s.url, retries=2))
    assert json.loads(reply.content)["findings"][0]["line"] == 2
    assert handler.chats == 2


def test_reset_mid_stream_through_the_cli(tmp_path: Path) -> None:
    with raw_server(OllamaRaw(reset_mid_stream)) as s:
        proc, doc = run_cli(tmp_path, s.url, "--retries", "1")
    assert proc.returncode == 3
    assert doc is not None and doc["status"] == "failed"
    assert kinds(doc) == ["connection_lost"]
    assert doc["stats"]["model_calls"] == 1  # one chunk call, retried inside the backend


# --- accepts, never answers ----------------------------------------------------------------


def silent(conn: Conn, n: int) -> None:
    conn.wait_until_stopped()


def test_server_that_never_answers_times_out_without_retry() -> None:
    handler = OllamaRaw(silent)
    with raw_server(handler) as s:
        err = chat_error(s.url, timeout=1.0, retries=3)
    assert err.kind == "timeout"
    assert not isinstance(err, TransientModelError)
    assert handler.chats == 1  # the same request would only wait as long again


def test_server_that_never_answers_through_the_cli(tmp_path: Path) -> None:
    with raw_server(OllamaRaw(silent)) as s:
        proc, doc = run_cli(tmp_path, s.url, "--timeout", "2", "--retries", "3")
    assert proc.returncode == 3
    assert doc is not None and kinds(doc) == ["timeout"]
    assert "did not answer within 2 s" in proc.stderr


def test_server_that_never_answers_even_preflight(tmp_path: Path) -> None:
    def mute(conn: Conn) -> None:
        conn.read_request()
        conn.wait_until_stopped()

    with raw_server(mute) as s:
        proc, doc = run_cli(tmp_path, s.url, "--timeout", "2")
    assert proc.returncode == 3
    assert doc is not None and doc["status"] == "failed" and kinds(doc) == ["timeout"]


# --- trickling a byte at a time ------------------------------------------------------------


def trickle(data: bytes, pause: float) -> Callable[[Conn, int], None]:
    def send(conn: Conn, n: int) -> None:
        for i in range(len(data)):
            conn.send(data[i : i + 1])
            time.sleep(pause)

    return send


def endless_headers(conn: Conn, n: int) -> None:
    """A status line and then header bytes, one at a time, for ever."""
    conn.send(b"HTTP/1.1 200 OK\r\n")
    while True:
        conn.send(b"X")
        time.sleep(0.25)


def test_headers_that_trickle_are_cut_off_by_the_total_deadline() -> None:
    # Each byte arrives well within the per-read timeout; only a total deadline ends this.
    handler = OllamaRaw(endless_headers)
    with raw_server(handler) as s:
        err = chat_error(s.url, timeout=1.5, retries=2)
    assert err.kind == "timeout"
    assert handler.chats == 1


def test_a_body_that_trickles_a_byte_a_second_hits_the_deadline(tmp_path: Path) -> None:
    body = ndjson_bytes(ollama_stream(answer()))
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    def slow(conn: Conn, n: int) -> None:
        conn.send(head)
        trickle(body, 1.0)(conn, n)

    with raw_server(OllamaRaw(slow)) as s:
        proc, doc = run_cli(tmp_path, s.url, "--timeout", "2", "--retries", "2")
    assert proc.returncode == 3
    assert doc is not None and kinds(doc) == ["timeout"]


# --- an answer of 100 MB -------------------------------------------------------------------


def hundred_mb(one_line: bool) -> Callable[[Conn, int], None]:
    """100 MB of answer, produced lazily: only what the client reads is ever sent."""
    piece = {"model": MODEL, "message": {"role": "assistant", "content": "x" * 65_000}}
    line = json.dumps(piece).encode() + b"\n"

    def send(conn: Conn, n: int) -> None:
        conn.head(chunked=True)
        if one_line:
            conn.chunk(b'{"model": "' + MODEL.encode() + b'", "message": {"content": "')
        sent = 0
        while sent < 100 * MB:
            data = b"y" * 65_000 if one_line else line
            conn.chunk(data)
            sent += len(data)
        conn.end_chunks()

    return send


@pytest.mark.parametrize("one_line", [True, False], ids=["one-line", "many-lines"])
def test_a_100_mb_answer_is_refused_early(one_line: bool) -> None:
    handler = OllamaRaw(hundred_mb(one_line))
    with raw_server(handler) as s:
        err = chat_error(s.url, retries=2)
        sent = s.bytes_sent
    assert isinstance(err, InvalidAnswerError)
    assert err.kind == "answer_too_large"
    assert handler.chats == 1  # not a transient fault: the backend does not retry it
    # The client stopped reading at its bound; the server could not push 100 MB.
    assert sent < 30 * MB


def test_a_100_mb_answer_through_the_cli(tmp_path: Path) -> None:
    handler = OllamaRaw(hundred_mb(one_line=False))
    with raw_server(handler) as s:
        proc, doc = run_cli(tmp_path, s.url)
        sent = s.bytes_sent
    assert proc.returncode == 3
    assert doc is not None and doc["status"] == "failed"
    assert kinds(doc) == ["answer_too_large"]
    assert doc["stats"]["model_calls"] == 2  # an invalid answer is asked again once
    assert sent < 2 * 30 * MB


def test_openai_body_of_100_mb_is_refused_early() -> None:
    def models_then_flood(conn: Conn) -> None:
        while (req := conn.read_request()) is not None:
            if req.path == "/v1/models":
                conn.respond_json({"object": "list", "data": [{"id": MODEL}]})
                continue
            conn.head(length=100 * MB)
            while True:
                conn.send(b" " * 65_000)

    with raw_server(models_then_flood) as s:
        err = chat_error(s.url, backend=Backend.OPENAI)
        sent = s.bytes_sent
    assert err.kind == "answer_too_large"
    assert sent < 30 * MB


# --- invalid UTF-8 -------------------------------------------------------------------------


def test_invalid_utf8_in_the_ollama_stream_becomes_replacement_characters(
    tmp_path: Path,
) -> None:
    text = answer(finding(message="bad bytes here: @@"))
    data = ndjson_bytes(ollama_stream(text, pieces=1)).replace(b"@@", b"\xff\xfe\xc3")

    def send(conn: Conn, n: int) -> None:
        conn.head(length=len(data))
        conn.send(data)

    with raw_server(OllamaRaw(send)) as s:
        proc, doc = run_cli(tmp_path, s.url, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert doc is not None and doc["status"] == "complete"
    assert doc["findings"][0]["message"] == "bad bytes here: \ufffd\ufffd\ufffd"


def test_invalid_utf8_in_an_openai_body(server: HTTPServer) -> None:
    serve_openai_models(server)
    body = json.dumps(openai_completion(answer(finding(title="T @@")))).encode()
    server.expect_request("/v1/chat/completions").respond_with_data(
        body.replace(b"@@", b"\x80"), content_type="application/json"
    )
    reply = within(30, lambda: chat(server.url_for("/").rstrip("/"), backend=Backend.OPENAI))
    assert parse_answer(reply.content)[0].title == "T \ufffd"


def test_lone_surrogates_in_an_answer_become_replacement_characters() -> None:
    raw = parse_answer(answer(finding(title="a")).replace('"a"', '"a\udc80"'))
    assert raw[0].title == "a\ufffd"


# --- deeply nested JSON --------------------------------------------------------------------

NESTED = "[" * 100_000


def test_deeply_nested_stream_line_is_a_protocol_error_not_a_crash(server: HTTPServer) -> None:
    server.expect_request("/api/chat").respond_with_data(NESTED + "\n")
    err = chat_error(server.url_for("/").rstrip("/"), retries=1)
    assert isinstance(err, TransientModelError)
    assert err.kind == "protocol"


def test_deeply_nested_answer_is_an_invalid_answer() -> None:
    for text in ('{"findings": ' + NESTED, NESTED, '{"findings": [' + "{" * 100_000):
        with pytest.raises(InvalidAnswerError):
            parse_answer(text)


def test_deeply_nested_openai_body_and_error_body(server: HTTPServer) -> None:
    serve_openai_models(server)
    server.expect_request("/v1/chat/completions").respond_with_data(NESTED, status=500)
    err = chat_error(server.url_for("/").rstrip("/"), backend=Backend.OPENAI, retries=0)
    assert err.kind == "server_error"
    server.clear()
    serve_openai_models(server)
    server.expect_request("/v1/chat/completions").respond_with_data(NESTED)
    err = chat_error(server.url_for("/").rstrip("/"), backend=Backend.OPENAI, retries=0)
    assert err.kind == "protocol"


def test_deeply_nested_answer_through_the_cli(server: HTTPServer, tmp_path: Path) -> None:
    serve_ollama_preflight(server)
    nested = ndjson_bytes(ollama_stream('{"findings": ' + NESTED))
    server.expect_request("/api/chat").respond_with_data(nested)
    proc, doc = run_cli(tmp_path, server.url_for("/").rstrip("/"))
    assert proc.returncode == 3
    assert doc is not None and kinds(doc) == ["invalid_answer"]


# --- 10,000 findings -----------------------------------------------------------------------


def ten_thousand() -> str:
    return answer(*(finding(title=f"Problem {i}") for i in range(10_000)))


def test_ten_thousand_findings_are_capped_and_counted() -> None:
    raw = parse_answer(ten_thousand())
    assert len(raw) == 10_000
    checked = validate(raw, app_chunk())
    assert len(checked.findings) == MAX_FINDINGS_PER_CHUNK
    assert checked.dropped == 10_000 - MAX_FINDINGS_PER_CHUNK
    assert [f.title for f in checked.findings][:2] == ["Problem 0", "Problem 1"]


def test_ten_thousand_findings_through_the_cli(server: HTTPServer, tmp_path: Path) -> None:
    content = ten_thousand()
    assert len(content) < MAX_ANSWER_BYTES  # read whole, then capped
    serve_ollama_preflight(server)
    server.expect_request("/api/chat").respond_with_data(
        ndjson_bytes(ollama_stream(content, pieces=50))
    )
    proc, doc = run_cli(tmp_path, server.url_for("/").rstrip("/"))
    assert proc.returncode == 0, proc.stderr
    assert doc is not None and doc["status"] == "complete"
    # The CLI's --max-findings default caps it (the schema's maxItems).
    assert len(doc["findings"]) == DEFAULT_MAX_FINDINGS
    assert doc["stats"]["findings_dropped"] == 10_000 - DEFAULT_MAX_FINDINGS


# --- NDJSON without its final line ---------------------------------------------------------


def test_stream_without_the_done_line_through_the_cli(server: HTTPServer, tmp_path: Path) -> None:
    serve_ollama_preflight(server)
    server.expect_request("/api/chat").respond_with_data(ndjson_bytes(ollama_stream(answer())[:-1]))
    proc, doc = run_cli(tmp_path, server.url_for("/").rstrip("/"), "--retries", "2")
    assert proc.returncode == 3
    assert doc is not None and kinds(doc) == ["protocol"]
    assert len(review_chats(server)) == 3


def test_stream_cut_inside_its_last_line(server: HTTPServer) -> None:
    data = ndjson_bytes(ollama_stream(answer()))[:-40]
    server.expect_request("/api/chat").respond_with_data(data)
    err = chat_error(server.url_for("/").rstrip("/"), retries=0)
    assert err.kind == "protocol"


# --- HTTP 200 with an error line -----------------------------------------------------------


def test_http_200_with_an_error_line_through_the_cli(server: HTTPServer, tmp_path: Path) -> None:
    serve_ollama_preflight(server)
    lines = ollama_stream(answer())[:1] + [{"error": "llama runner process has terminated"}]
    server.expect_request("/api/chat").respond_with_data(ndjson_bytes(lines))
    proc, doc = run_cli(tmp_path, server.url_for("/").rstrip("/"), "--retries", "1")
    assert proc.returncode == 3
    assert doc is not None and kinds(doc) == ["server_error"]
    assert "llama runner process has terminated" in doc["errors"][0]["message"]


def test_openai_http_200_with_an_error_body(server: HTTPServer) -> None:
    serve_openai_models(server)
    server.expect_request("/v1/chat/completions").respond_with_json(
        {"error": {"message": "slot unavailable", "type": "server_error"}}
    )
    err = chat_error(server.url_for("/").rstrip("/"), backend=Backend.OPENAI, retries=1)
    assert err.kind == "server_error"
    assert "slot unavailable" in err.message


# --- 503 queue full ------------------------------------------------------------------------

BUSY = {"error": "server busy, please try again.  maximum pending requests exceeded"}


def busy_then(n_busy: int, server: HTTPServer) -> None:
    calls = {"n": 0}

    def handler(request: Request) -> Response:
        if (count := count_reply(request)) is not None:
            return count
        calls["n"] += 1
        if calls["n"] <= n_busy:
            return Response(json.dumps(BUSY), status=503, mimetype="application/json")
        return Response(ndjson_bytes(ollama_stream(answer(finding()))))

    server.expect_request("/api/chat").respond_with_handler(handler)


def test_503_burst_is_retried_then_succeeds_through_the_cli(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    busy_then(3, server)
    proc, doc = run_cli(tmp_path, server.url_for("/").rstrip("/"), "--retries", "3")
    assert proc.returncode == 0, proc.stderr
    assert doc is not None and doc["status"] == "complete"
    assert len(doc["findings"]) == 1
    assert len(review_chats(server)) == 4


def test_503_beyond_the_retries_fails_closed_through_the_cli(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    busy_then(100, server)
    proc, doc = run_cli(tmp_path, server.url_for("/").rstrip("/"), "--retries", "2")
    assert proc.returncode == 3
    assert doc is not None and kinds(doc) == ["server_error"]
    assert "maximum pending requests exceeded" in doc["errors"][0]["message"]
    assert len(review_chats(server)) == 3


def test_a_hostile_retry_after_is_capped() -> None:
    policy = RetryPolicy(retries=3, base_delay=0.001, max_delay=30.0)
    for value in (1e12, float("inf")):
        assert policy.delay(0, value) == 30.0


# --- a server that restarts between chunks -------------------------------------------------

LINES = 400  # with --num-ctx 2048 this diff is several chunks


def test_server_restart_between_chunks_is_survived(tmp_path: Path) -> None:
    holder: dict[str, RawServer] = {}

    def chat_then_restart(conn: Conn, n: int) -> None:
        if n == 1:
            time.sleep(0.3)  # the model is loaded again: a slow first answer
        stream_ok(conn, answer(), prompt_eval_count=300, eval_count=5)
        if n == 0:
            # The process goes away after the first chunk: open connections drop, new ones
            # are refused for a moment, then it listens on the same port again.
            holder["s"].restart_after(0.3)

    handler = OllamaRaw(chat_then_restart)
    with raw_server(handler) as s:
        holder["s"] = s
        proc, doc = run_cli(
            tmp_path,
            s.url,
            "--num-ctx",
            "2048",
            "--num-predict",
            "64",
            "--retries",
            "5",
            diff=many_line_diff(LINES),
            REVIEWER_RETRY_BASE_DELAY="0.3",
        )
        connections = s.connections
    assert proc.returncode == 0, proc.stderr
    assert doc is not None and doc["status"] == "complete"
    assert doc["stats"]["chunks"] >= 2
    assert handler.chats == doc["stats"]["chunks"]
    assert connections >= 2  # it reconnected after the restart


def test_a_connection_closed_between_chunks_is_reopened(tmp_path: Path) -> None:
    def answer_then_close(conn: Conn, n: int) -> None:
        stream_ok(conn, answer())
        conn.sock.close()  # keep-alive was implied, but the server drops it

    handler = OllamaRaw(answer_then_close)
    with raw_server(handler) as s:
        proc, doc = run_cli(
            tmp_path,
            s.url,
            "--num-ctx",
            "2048",
            "--num-predict",
            "64",
            "--retries",
            "0",
            diff=many_line_diff(LINES),
        )
    assert proc.returncode == 0, proc.stderr
    assert doc is not None and doc["status"] == "complete"
    assert handler.chats == doc["stats"]["chunks"] >= 2


def test_load_duration_spike_is_only_a_slower_answer(server: HTTPServer) -> None:
    lines = ollama_stream(answer(finding()))
    lines[-1]["load_duration"] = 95_000_000_000  # 95 s to load the model again
    server.expect_request("/api/chat").respond_with_data(ndjson_bytes(lines))
    reply = within(30, lambda: chat(server.url_for("/").rstrip("/")))
    assert len(parse_answer(reply.content)) == 1


# --- a different model answers -------------------------------------------------------------


def test_a_different_model_in_the_answer_fails_closed_through_the_cli(
    server: HTTPServer, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    lines = ollama_stream(answer(finding()))
    for line in lines:
        line["model"] = "llama3.2:1b"
    server.expect_request("/api/chat").respond_with_data(ndjson_bytes(lines))
    proc, doc = run_cli(tmp_path, server.url_for("/").rstrip("/"))
    assert proc.returncode == 3
    assert doc is not None and doc["status"] == "failed"
    assert kinds(doc) == ["model_mismatch"]
    assert doc["findings"] == []
    assert len(review_chats(server)) == 1  # not retried


@pytest.mark.parametrize(
    ("requested", "answered", "same"),
    [
        ("qwen2.5-coder:7b", "qwen2.5-coder:7b", True),
        ("qwen2.5-coder", "qwen2.5-coder:latest", True),
        ("Qwen2.5-Coder:7B", "qwen2.5-coder:7b", True),
        ("qwen2.5-coder:7b", "qwen2.5-coder:14b", False),
        ("qwen2.5-coder:7b", "llama3.2:1b", False),
    ],
)
def test_ollama_model_names_compare_strictly(requested: str, answered: str, same: bool) -> None:
    assert same_model(requested, answered) is same


@pytest.mark.parametrize(
    ("requested", "answered", "same"),
    [
        ("smollm2-135m-instruct", "smollm2-135m-instruct", True),
        ("qwen2.5-coder-7b-instruct", "/models/qwen2.5-coder-7b-instruct-q4_k_m.gguf", True),
        ("Qwen2.5-Coder-7B-Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct", True),
        ("qwen2.5-coder-7b-instruct", "", True),
        ("qwen2.5-coder-7b-instruct", "llama-3.1-8b-instruct", False),
    ],
)
def test_openai_model_names_compare_leniently(requested: str, answered: str, same: bool) -> None:
    assert same_served_model(requested, answered) is same


def test_openai_different_model_is_a_mismatch(server: HTTPServer) -> None:
    serve_openai_models(server)
    body = openai_completion(answer())
    body["model"] = "llama-3.1-8b-instruct"
    server.expect_request("/v1/chat/completions").respond_with_json(body)
    err = chat_error(server.url_for("/").rstrip("/"), backend=Backend.OPENAI)
    assert err.kind == "model_mismatch"
    assert not isinstance(err, TransientModelError)
