"""`--output` through the real CLI: a symlink is written through to its regular file,
atomically in the target's directory; a device, a FIFO, a directory and every name for stdout
(/dev/stdout, /dev/fd/1, /proc/self/fd/1, a link to one of them) are refused with exit 2
before any model call, whatever stdout is, and checked again when the document is written.
Also: the writability probe leaves nothing behind, and a signal during the write waits for it."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner
from werkzeug import Request, Response

from reviewer.cli.app import app
from reviewer.findings import document
from reviewer.findings.document import DocumentWriteError, check_writable
from tests.model_fakes import (
    APP_DIFF,
    answer,
    finding,
    ndjson_bytes,
    ollama_stream,
    serve_ollama_chat,
    serve_ollama_preflight,
)


@pytest.fixture
def diff_file(tmp_path: Path) -> Path:
    path = tmp_path / "pr.diff"
    path.write_text(APP_DIFF)
    return path


def run(
    server: HTTPServer, env: dict[str, str], diff_file: Path, output: str,
    stdout: int | IO[Any] = subprocess.PIPE,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--diff-file", str(diff_file),
         "--ollama-url", server.url_for("/").rstrip("/"), "--no-cache", "--output", output],
        env=env, cwd=diff_file.parent, stdout=stdout, stderr=subprocess.PIPE, text=True,
        timeout=120, check=False,
    )


def refused(proc: subprocess.CompletedProcess[str], server: HTTPServer, why: str) -> None:
    assert proc.returncode == 2, proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("reviewer: error: cannot write the findings document"), first
    assert why in first
    assert "hint: give --output a file path" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert server.log == []  # refused before the review: no model call


def test_symlink_is_written_through_atomically(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(line=2)))
    links, store = tmp_path / "links", tmp_path / "store"
    links.mkdir()
    store.mkdir()
    real = store / "findings.json"
    real.write_text("old\n")
    (links / "out.json").symlink_to(real)
    proc = run(server, env, diff_file, str(links / "out.json"))
    assert proc.returncode == 0, proc.stderr
    assert (links / "out.json").is_symlink()  # the link was not replaced by a file
    assert json.loads(real.read_text())["status"] == "complete"
    # The temp file lived in the target's directory and was renamed: nothing is left over.
    assert [p.name for p in links.iterdir()] == ["out.json"]
    assert [p.name for p in store.iterdir()] == ["findings.json"]


def test_dangling_symlink_creates_its_target(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    (tmp_path / "store").mkdir()
    link = tmp_path / "out.json"
    link.symlink_to(tmp_path / "store" / "new.json")
    proc = run(server, env, diff_file, str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert json.loads((tmp_path / "store" / "new.json").read_text())["findings"] == []


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
@pytest.mark.parametrize("kind", ["file", "pipe", "tty"])
def test_stdout_is_refused_whatever_it_is(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path,
    name: str, kind: str,
) -> None:
    if kind == "file":
        with (tmp_path / "captured.log").open("w+") as out:
            out.write("before\n")
            out.flush()
            proc = run(server, env, diff_file, name, stdout=out)
        assert (tmp_path / "captured.log").read_text() == "before\n"
    elif kind == "pipe":
        proc = run(server, env, diff_file, name)
    else:
        primary, secondary = pty.openpty()
        try:
            proc = run(server, env, diff_file, name, stdout=secondary)
        finally:
            os.close(secondary)
            os.close(primary)
    refused(proc, server, "a device or process file")
    assert os.path.islink("/dev/stdout")


@pytest.mark.parametrize("kind", ["null", "fifo", "directory", "link to stdout", "loop"])
def test_devices_fifos_and_directories_are_refused(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path, kind: str
) -> None:
    target = tmp_path / "out.json"
    why = "not a regular file"
    if kind == "null":
        target, why = Path("/dev/null"), "a device or process file"
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    elif kind == "link to stdout":
        target.symlink_to("/dev/stdout")
        why = "a device or process file"
    else:
        target.symlink_to(tmp_path / "loop2")
        (tmp_path / "loop2").symlink_to(target)
        why = "too many levels of symbolic links"
    proc = run(server, env, diff_file, str(target))
    refused(proc, server, why)
    assert Path("/dev/null").is_char_device()
    if kind == "fifo":
        assert target.is_fifo()


def test_target_is_checked_again_when_the_document_is_written(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.json"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def swap_then_answer(_: Request) -> Response:
        # During the review (after the first check) the output becomes a link to a FIFO.
        if not out.is_symlink():
            out.symlink_to(fifo)
        return Response(ndjson_bytes(ollama_stream(answer())), mimetype="application/x-ndjson")

    serve_ollama_preflight(server)
    server.expect_request("/api/chat", method="POST").respond_with_handler(swap_then_answer)
    proc = run(server, env, diff_file, str(out))
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr
    assert out.is_symlink() and fifo.is_fifo()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".probe"))]
    assert leftovers == []


def test_probe_leaves_nothing_behind(tmp_path: Path) -> None:
    check_writable(tmp_path / "findings.json")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "findings.json").write_text("keep\n")
    check_writable(tmp_path / "findings.json")
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]
    assert (tmp_path / "findings.json").read_text() == "keep\n"
    with pytest.raises(DocumentWriteError):
        check_writable(tmp_path / "missing-dir" / "findings.json")


def test_signal_during_the_write_waits_for_the_whole_document(
    server: HTTPServer, tmp_path: Path, diff_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM arrives in the middle of writing the document (just before the rename): it is
    held, the document is finished whole, and the run then exits 143 (interrupted)."""
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(finding(line=2)))
    real_replace = os.replace

    def replace_after_a_signal(src: str, dst: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        real_replace(src, dst)

    monkeypatch.setattr(document.os, "replace", replace_after_a_signal)
    monkeypatch.setenv("REVIEWER_LOCK_DIR", str(tmp_path))
    out = tmp_path / "findings.json"
    result = CliRunner().invoke(
        app,
        ["run", "--diff-file", str(diff_file), "--ollama-url", server.url_for("/").rstrip("/"),
         "--no-cache", "--output", str(out)],
    )
    assert result.exit_code == 143, result.output
    assert json.loads(out.read_text())["status"] == "complete"
    assert "interrupted by SIGTERM" in result.output
