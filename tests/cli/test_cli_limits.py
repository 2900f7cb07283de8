"""Resource limits through the real CLI: `--diff-file` reads at most MAX_DIFF_BYTES (from a
device, a sparse file or stdin) and a run over its chunk budget (`--max-chunks`) fails closed
before any model call."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest
from pytest_httpserver import HTTPServer

from reviewer.diff import sources
from reviewer.diff.sources import MAX_DIFF_BYTES, PatchFileSource
from reviewer.errors import DiffError
from tests.model_fakes import answer, serve_ollama_chat, serve_ollama_preflight

# A small launcher measures the child: the peak RSS a process reports keeps the high-water mark
# of the process it was forked from, so measured straight from pytest (hundreds of MB after a
# long session) it would say more about pytest than about reviewer.
_LAUNCHER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False).returncode
print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def run_measured(
    args: list[str], env: dict[str, str], cwd: Path, stdin: IO[bytes] | None = None
) -> tuple[int, str, int]:
    """Run `reviewer run ARGS`; return the exit code, stderr and its peak RSS in KiB."""
    proc = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, sys.executable, "-m", "reviewer", "run", *args],
        env=env, cwd=cwd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
        capture_output=True, timeout=120, check=False,
    )
    code, rss_kib = (int(n) for n in proc.stdout.split())
    return code, proc.stderr.decode(), rss_kib


def test_diff_file_dev_zero_is_refused_with_bounded_memory(
    env: dict[str, str], tmp_path: Path
) -> None:
    code, err, rss_kib = run_measured(["--diff-file", "/dev/zero", "--dry-run"], env, tmp_path)
    assert code == 2, err
    assert err.splitlines()[0] == (
        "reviewer: error: --diff-file /dev/zero is larger than 256 MiB, the most a review reads"
    )
    assert "Traceback" not in err
    assert rss_kib < 4 * MAX_DIFF_BYTES // 1024  # it grew past 23 GB before the limit


def test_diff_file_sparse_10_gb_is_refused_without_reading(
    env: dict[str, str], tmp_path: Path
) -> None:
    big = tmp_path / "huge.diff"
    with big.open("wb") as f:
        f.truncate(10 * 1024**3)  # sparse: no disk used
    code, err, rss_kib = run_measured(["--diff-file", str(big), "--dry-run"], env, tmp_path)
    assert code == 2, err
    assert "huge.diff is larger than 256 MiB" in err
    assert "hint: review a smaller range" in err
    assert rss_kib < MAX_DIFF_BYTES // 1024  # refused by its size: never read


def test_stdin_from_dev_zero_is_refused(env: dict[str, str], tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        code, err, rss_kib = run_measured(["--diff-file", "-", "--dry-run"], env, tmp_path, zero)
    assert code == 2, err
    assert "--diff-file stdin is larger than 256 MiB" in err
    assert rss_kib < 4 * MAX_DIFF_BYTES // 1024


def test_the_limit_is_exact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_DIFF_BYTES", 100)
    patch = b"--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n x\n+y\n"
    exact = tmp_path / "exact.diff"
    exact.write_bytes(patch + b" " * (100 - len(patch)))
    assert PatchFileSource(str(exact), tmp_path).read().text.startswith("--- a/x")
    over = tmp_path / "over.diff"
    over.write_bytes(exact.read_bytes() + b"\n")
    with pytest.raises(DiffError, match="over.diff is larger than"):
        PatchFileSource(str(over), tmp_path).read()
    # A pipe does not say its size: the read itself stops one byte past the limit.
    stream = io.BufferedReader(io.BytesIO(over.read_bytes()))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream))
    with pytest.raises(DiffError, match="stdin is larger than"):
        PatchFileSource("-", tmp_path).read()


def many_files_diff(files: int) -> str:
    """A patch of `files` new files, each one chunk's worth of code."""
    parts = []
    for i in range(files):
        body = "".join(f"+value_{i}_{n} = compute({n}) * {i}  # line {n}\n" for n in range(120))
        parts.append(
            f"diff --git a/f{i}.py b/f{i}.py\nnew file mode 100644\n--- /dev/null\n"
            f"+++ b/f{i}.py\n@@ -0,0 +1,120 @@\n{body}"
        )
    return "".join(parts)


@pytest.fixture
def big_diff(tmp_path: Path) -> Path:
    path = tmp_path / "big.diff"
    path.write_text(many_files_diff(40))
    return path


def dry_run_chunks(env: dict[str, str], cwd: Path, diff: Path) -> int:
    """How many chunks the dry run plans for the patch file."""
    dry = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--diff-file", str(diff), "--dry-run",
         "--format", "json"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )
    assert dry.returncode == 0, dry.stderr
    return len(json.loads(dry.stdout)["chunks"])


def test_over_the_chunk_budget_fails_closed_before_any_model_call(
    server: HTTPServer, env: dict[str, str], tmp_path: Path, big_diff: Path
) -> None:
    chunks = dry_run_chunks(env, tmp_path, big_diff)
    assert chunks > 5
    url = server.url_for("/").rstrip("/")
    out = tmp_path / "findings.json"
    for extra, extra_env in ((["--max-chunks", "5"], {}), ([], {"REVIEWER_MAX_CHUNKS": "5"})):
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "run", "--diff-file", str(big_diff),
             "--ollama-url", url, "--no-cache", "--output", str(out), *extra],
            env={**env, **extra_env, "LOCAL_LLM_OPTIONAL": "true"}, cwd=tmp_path,
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert proc.returncode == 3, proc.stderr  # LOCAL_LLM_OPTIONAL does not excuse it
        first = proc.stderr.splitlines()[0]
        assert first.startswith(f"reviewer: error: the diff makes {chunks} chunks, over "
                                "--max-chunks 5")
        assert f"{chunks} to {2 * chunks} model calls" in first
        assert f"about {chunks * 30 // 60} min" in first
        assert "hint: raise --max-chunks" in proc.stderr
        assert server.log == []  # not even the preflight
        assert not out.exists()


def test_at_the_chunk_budget_the_review_runs(
    server: HTTPServer, env: dict[str, str], tmp_path: Path, big_diff: Path
) -> None:
    chunks = dry_run_chunks(env, tmp_path, big_diff)
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    out = tmp_path / "findings.json"
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--diff-file", str(big_diff),
         "--ollama-url", server.url_for("/").rstrip("/"), "--no-cache", "--output", str(out),
         "--max-chunks", str(chunks)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "complete"
    assert doc["stats"]["chunks"] == doc["stats"]["model_calls"] == chunks
