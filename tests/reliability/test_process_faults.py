"""Process faults: SIGTERM and Ctrl-C (SIGINT) in the middle of a review, and an output path
that cannot take the findings document (full disk, read-only mount, a file where a directory
should be, a FIFO). The real CLI in a subprocess against a fake Ollama on 127.0.0.1.

Two runs against one server taking turns is held by tests/cli/test_cli_run.py
(test_two_processes_against_one_server_take_turns)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.plan.build import build_plan
from reviewer.settings.slices import DiffSettings
from tests.model_fakes import (
    answer,
    count_reply,
    finding,
    ndjson_bytes,
    ollama_stream,
    openai_completion,
    serve_ollama_preflight,
    serve_openai_models,
)

# Three files, three chunks (b.py and d.py each start a chunk group): sent a, b, d in order.
FILES = ("a.py", "b.py", "d.py")
DIFF = "".join(
    f"diff --git a/{p} b/{p}\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n"
    f"+++ b/{p}\n@@ -0,0 +1,2 @@\n+x = 1\n+y = x / 0\n"
    for p in FILES
)
EXIT_TIMEOUT = 30  # the test's bound on "exits promptly"; a hang would take 600 s or forever


class HangingChat:
    """A fake /api/chat (or /v1/chat/completions) that answers chunks for `fast` files at once
    and keeps every other request open, trickling whitespace so a dropped connection is seen
    (`dropped`) when the server's next write fails."""

    def __init__(self, fast: tuple[str, ...] = ("a.py",), openai: bool = False) -> None:
        self.fast = fast
        self.openai = openai
        self.in_flight = 0
        self.hanging = threading.Event()
        self.dropped = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        if not self.openai and (count := count_reply(request)) is not None:
            return count  # a calibration's count is answered at once, never held
        body: dict[str, Any] = request.get_json(silent=True) or {}
        user = str(body.get("messages", [{}, {}])[-1].get("content", ""))
        path = next((p for p in FILES if f'=== FILE "{p}"' in user), "")
        if path in self.fast:
            content = answer(finding(path=path, line=2, severity="high"))
            if self.openai:
                return Response(json.dumps(openai_completion(content)), mimetype="application/json")
            return Response(ndjson_bytes(ollama_stream(content)), mimetype="application/x-ndjson")
        with self._lock:
            self.in_flight += 1
        self.hanging.set()
        return Response(self._trickle(), mimetype="application/x-ndjson")

    def _trickle(self) -> Iterator[bytes]:
        try:
            while not self.release.is_set():
                yield b" "
                time.sleep(0.05)
        finally:
            if not self.release.is_set():
                self.dropped.set()

    def wait_in_flight(self, n: int) -> None:
        deadline = time.monotonic() + EXIT_TIMEOUT
        while self.in_flight < n:
            assert time.monotonic() < deadline, f"only {self.in_flight} requests in flight"
            time.sleep(0.02)


@pytest.fixture
def chat(server: HTTPServer) -> Iterator[HangingChat]:
    handler = HangingChat()
    serve_ollama_preflight(server)
    server.expect_request("/api/chat", method="POST").respond_with_handler(handler)
    yield handler
    handler.release.set()  # let the server's handler threads end


@pytest.fixture
def diff_file(tmp_path: Path) -> Path:
    path = tmp_path / "pr.diff"
    path.write_text(DIFF)
    plan = build_plan(DiffSettings(diff_file=str(path)), environ={})
    assert [[f.path for f in c.files] for c in plan.chunks] == [[p] for p in FILES]
    return path


@pytest.fixture
def outdir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


# Started as an interactive shell starts it: SIGINT handled, even when this test process
# inherited it ignored (a background job), which reviewer deliberately respects.
CHILD = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'reviewer'; from reviewer.cli.app import main; main()"
)


def start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, "run", *args],
        env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def run_args(server: HTTPServer, diff_file: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--diff-file", str(diff_file), "--ollama-url", server.url_for("/").rstrip("/"),
        "--output", str(out), "--timeout", "60", "--retries", "0", "--no-cache", *extra,
    ]


def stop(proc: subprocess.Popen[str], signum: int) -> tuple[str, str]:
    proc.send_signal(signum)
    try:
        return proc.communicate(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"reviewer did not exit within {EXIT_TIMEOUT} s of {signum}")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def chat_requests(server: HTTPServer) -> int:
    """Chunk reviews only: not the calibration's counts (non-streamed, review/calibration.py)."""
    return sum(
        1
        for req, _ in server.log
        if req.path.endswith("/chat") and (req.get_json(silent=True) or {}).get("stream") is not False
    )


# --- SIGTERM and SIGINT during a review ------------------------------------------------------


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_review_writes_the_partial_document(
    server: HTTPServer,
    chat: HangingChat,
    env: dict[str, str],
    diff_file: Path,
    outdir: Path,
    signum: int,
    code: int,
) -> None:
    out = outdir / "findings.json"
    proc = start(run_args(server, diff_file, out), env, outdir)
    assert chat.hanging.wait(EXIT_TIMEOUT)  # chunk 1 answered, chunk 2 in flight
    _, err = stop(proc, signum)
    name = signal.Signals(signum).name
    assert proc.returncode == code, err
    doc = load(out)
    assert doc["status"] == "partial"
    assert [(f["path"], f["line"]) for f in doc["findings"]] == [("a.py", 2)]
    assert [e["kind"] for e in doc["errors"]] == ["interrupted", "not_sent"]
    assert doc["errors"][0]["message"] == f"interrupted by {name} after 1 of 3 chunks"
    assert doc["stats"]["chunks_failed"] == 2
    assert f"reviewer: error: review not completed (partial): interrupted by {name}" in err
    assert err.rstrip().endswith(f"reviewer: interrupted by {name}")
    assert "Traceback" not in err
    assert [p.name for p in outdir.iterdir()] == ["findings.json"]  # no temp file left
    assert chat.dropped.wait(10)  # the in-flight request was abandoned, not waited for
    assert chat_requests(server) == 2  # chunk 3 was never sent


def test_interruption_is_never_a_success_under_local_llm_optional(
    server: HTTPServer, env: dict[str, str], diff_file: Path, outdir: Path
) -> None:
    handler = HangingChat(fast=())  # every chunk hangs: nothing is reviewed
    serve_ollama_preflight(server)
    server.expect_request("/api/chat", method="POST").respond_with_handler(handler)
    try:
        out = outdir / "findings.json"
        proc = start(run_args(server, diff_file, out), {**env, "LOCAL_LLM_OPTIONAL": "true"},
                     outdir)
        assert handler.hanging.wait(EXIT_TIMEOUT)
        _, err = stop(proc, signal.SIGTERM)
    finally:
        handler.release.set()
    assert proc.returncode == 143
    doc = load(out)
    assert doc["status"] == "failed"  # not "skipped": the model was not the problem
    assert doc["findings"] == []
    assert doc["errors"][0]["message"] == "interrupted by SIGTERM after 0 of 3 chunks"
    assert "reviewer: error: review not completed (failed)" in err
    assert "warning" not in err


def test_sigterm_with_concurrent_requests_in_flight_exits_without_waiting(
    server: HTTPServer, env: dict[str, str], diff_file: Path, outdir: Path
) -> None:
    handler = HangingChat(openai=True)
    serve_openai_models(server)
    server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    out = outdir / "findings.json"
    args = [
        "--diff-file", str(diff_file), "--backend", "openai",
        "--base-url", server.url_for("/").rstrip("/"), "--concurrency", "3",
        "--output", str(out), "--timeout", "60", "--retries", "0", "--no-cache",
    ]
    try:
        proc = start(args, env, outdir)
        handler.wait_in_flight(2)  # b.py and d.py hang side by side
        seen = _read_until(proc, "reviewer: chunk 1/3 done")  # a.py is finished
        _, err = stop(proc, signal.SIGTERM)
    finally:
        handler.release.set()
    err = seen + err
    assert proc.returncode == 143, err
    doc = load(out)
    assert doc["status"] == "partial"
    assert [f["path"] for f in doc["findings"]] == ["a.py"]
    assert doc["errors"][0]["message"] == "interrupted by SIGTERM after 1 of 3 chunks"
    assert "Traceback" not in err


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_with_several_servers_in_flight_stops_promptly(
    servers: Callable[[int], list[HTTPServer]], env: dict[str, str], diff_file: Path,
    outdir: Path, signum: int, code: int,
) -> None:
    """Two Ollama servers, each holding one hanging request: the signal still ends the run at
    once, and the partial document (the answered chunk and who answered it) is written."""
    pool = servers(2)
    handlers = [HangingChat(), HangingChat()]
    for s, handler in zip(pool, handlers, strict=True):
        serve_ollama_preflight(s)
        s.expect_request("/api/chat", method="POST").respond_with_handler(handler)
    out = outdir / "findings.json"
    urls = [s.url_for("/").rstrip("/") for s in pool]
    args = [
        "--diff-file", str(diff_file), "--ollama-url", urls[0], "--ollama-url", urls[1],
        "--output", str(out), "--timeout", "60", "--retries", "0", "--no-cache",
    ]
    try:
        proc = start(args, env, outdir)
        seen = _read_until(proc, "reviewer: chunk 1/3 done")  # a.py is answered
        for handler in handlers:  # b.py and d.py hang, one on each server
            handler.wait_in_flight(1)
        started = time.monotonic()
        _, err = stop(proc, signum)
        took = time.monotonic() - started
    finally:
        for handler in handlers:
            handler.release.set()
    err = seen + err
    assert proc.returncode == code, err
    assert took < EXIT_TIMEOUT
    doc = load(out)
    assert doc["status"] == "partial"
    assert [f["path"] for f in doc["findings"]] == ["a.py"]
    assert [c["chunk"] for c in doc["chunks"]] == [1] and doc["chunks"][0]["server"] in urls
    assert doc["errors"][0]["kind"] == "interrupted"
    assert "Traceback" not in err


def _read_until(proc: subprocess.Popen[str], text: str) -> str:
    """stderr up to the line holding `text` (CI=true: plain progress lines)."""
    assert proc.stderr is not None
    seen = ""
    while text not in seen:
        line = proc.stderr.readline()
        assert line, f"stderr ended before {text!r}: {seen}"
        seen += line
    return seen


def test_signal_before_the_review_exits_cleanly_without_a_document(
    server: HTTPServer, env: dict[str, str], outdir: Path
) -> None:
    # `--diff-file -` waits on stdin that never ends: interrupted while reading the diff,
    # there is nothing to write yet.
    syscall = Path("/proc/self/syscall")
    if not syscall.exists():
        pytest.skip("needs /proc/PID/syscall (Linux) to see the child blocked on stdin")
    out = outdir / "findings.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "run", "--diff-file", "-", "--output", str(out),
         "--ollama-url", server.url_for("/").rstrip("/")],
        env=env, cwd=outdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_reading_stdin(proc.pid)
        _, err = stop(proc, signal.SIGTERM)
    finally:
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()
    assert proc.returncode == 143, err
    assert err == "reviewer: interrupted by SIGTERM\n"
    assert list(outdir.iterdir()) == []
    assert server.log == []


def _wait_reading_stdin(pid: int) -> None:
    """Until the process is blocked in read(0, ...): syscall 0 (x86-64) or 63 (arm64), fd 0."""
    deadline = time.monotonic() + EXIT_TIMEOUT
    while True:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
        if len(fields) > 1 and fields[0] in ("0", "63") and int(fields[1], 16) == 0:
            return
        assert time.monotonic() < deadline, fields
        time.sleep(0.02)


def test_a_signal_during_the_write_leaves_no_temp_file(tmp_path: Path) -> None:
    # SIGTERM arrives in the middle of writing (from fsync): the temporary file is removed and
    # the old document is untouched.
    target = tmp_path / "findings.json"
    target.write_text('{"old": true}')
    child = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "import reviewer.findings.document as d\n"
        "from reviewer.review.interrupt import Interrupted, interrupts_raise\n"
        "from reviewer.models import FindingsDocument, ModelInfo, Status, ToolInfo\n"
        "d.os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGTERM)\n"
        "doc = FindingsDocument(status=Status.COMPLETE, tool=ToolInfo(version='x'),"
        " model=ModelInfo(backend='o', name='m'))\n"
        "try:\n"
        "    with interrupts_raise():\n"
        f"        d.write_document(doc, Path({str(target)!r}))\n"
        "except Interrupted as e:\n"
        "    sys.exit(e.exit_code)\n"
    )
    proc = subprocess.run([sys.executable, "-c", child], check=False, capture_output=True)
    assert proc.returncode == 143, proc.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]
    assert target.read_text() == '{"old": true}'


# --- the output path cannot take the document ------------------------------------------------


def _mount(args: list[str], where: Path) -> None:
    proc = subprocess.run(["mount", *args, str(where)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        pytest.skip(f"mount is not permitted here: {proc.stderr.strip()}")


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs holding an old findings.json, then filled to the last byte."""
    where = tmp_path / "full"
    where.mkdir()
    _mount(["-t", "tmpfs", "-o", "size=64k", "tmpfs"], where)
    try:
        (where / "findings.json").write_text('{"old": true}')
        fd = os.open(where / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 512):
                pass
        except OSError:
            pass  # ENOSPC: full
        finally:
            os.close(fd)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A read-only bind mount of a directory."""
    source, where = tmp_path / "src", tmp_path / "ro"
    source.mkdir()
    where.mkdir()
    _mount(["--bind", str(source)], where)
    try:
        _mount(["-o", "remount,ro,bind"], where)
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _run_to(
    server: HTTPServer, env: dict[str, str], diff_file: Path, out: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "run", *run_args(server, diff_file, out)],
        env=env, cwd=diff_file.parent, capture_output=True, text=True, timeout=120, check=False,
    )


def test_full_disk_is_a_clear_error_and_the_old_document_survives(
    server: HTTPServer, chat: HangingChat, env: dict[str, str], diff_file: Path,
    full_disk: Path,
) -> None:
    chat.fast = FILES
    proc = _run_to(server, env, diff_file, full_disk / "findings.json")
    assert proc.returncode == 2
    assert (
        f"reviewer: error: cannot write the findings document {full_disk / 'findings.json'}: "
        "No space left on device"
    ) in proc.stderr
    assert "hint: check the directory exists, is writable and the disk is not full" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler", "findings.json"]
    assert (full_disk / "findings.json").read_text() == '{"old": true}'


def test_read_only_output_fails_before_any_model_call(
    server: HTTPServer, chat: HangingChat, env: dict[str, str], diff_file: Path,
    read_only: Path,
) -> None:
    proc = _run_to(server, env, diff_file, read_only / "findings.json")
    assert proc.returncode == 2
    assert "Read-only file system" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert server.log == []  # no model time spent on a review that could not be saved
    assert list(read_only.iterdir()) == []


def test_output_under_a_regular_file_fails_before_any_model_call(
    server: HTTPServer, chat: HangingChat, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a directory")
    proc = _run_to(server, env, diff_file, blocker / "findings.json")
    assert proc.returncode == 2
    assert f"cannot write the findings document {blocker / 'findings.json'}: Not a directory" in (
        proc.stderr
    )
    assert server.log == []
    assert blocker.read_text() == "a file, not a directory"


def test_output_that_is_not_a_regular_file_is_refused_not_replaced(
    server: HTTPServer, chat: HangingChat, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    # Renaming over a FIFO (or /dev/stdout, as root) would replace it instead of writing to it.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    proc = _run_to(server, env, diff_file, fifo)
    assert proc.returncode == 2
    assert "not a regular file" in proc.stderr
    assert "hint: give --output a file path; print the document with --format json" in (
        proc.stderr
    )
    assert fifo.is_fifo()
    assert server.log == []
