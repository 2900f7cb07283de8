"""Resource limits through the real CLI: `--diff-file` reads at most MAX_DIFF_BYTES (from a
device, a sparse file or stdin) and a run over its chunk budget (`--max-chunks`) fails closed
before any model call."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import IO

import pytest

from reviewer.diff import sources
from reviewer.diff.sources import MAX_DIFF_BYTES, PatchFileSource
from reviewer.errors import DiffError


def run_measured(
    args: list[str], env: dict[str, str], cwd: Path, stdin: IO[bytes] | None = None
) -> tuple[int, str, int]:
    """Run `reviewer run ARGS`; return the exit code, stderr and the peak RSS in KiB."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", "run", *args],
        env=env, cwd=cwd, stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    err = proc.stderr.read().decode()  # ends when the process closes stderr, at exit
    _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, err, usage.ru_maxrss


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
