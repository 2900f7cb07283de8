"""Run a command and measure it: wall time and the peak resident memory of that one command.

Peak memory comes from GNU time (`/usr/bin/time -f %M`) when installed: os.wait4 on a child of
this Python process would also count the pages the child shared with it between fork and exec
(about 35 MB here), which hides a small command's real footprint. Without GNU time, wait4's
figure is used and is an upper bound."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

_MARK = "@@bench-peak-kib="


@dataclass(frozen=True)
class Sample:
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stderr: str


def run_measured(
    argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> Sample:
    """Run argv with stdout discarded (read through a pipe, as a CI log would) and stderr
    kept in a temp file (a pipe could fill up and block the child)."""
    gnu_time = shutil.which("time", path="/usr/bin:/bin")
    prefix = [gnu_time, "-f", _MARK + "%M"] if gnu_time else []
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*prefix, *argv],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        while proc.stdout.read(1 << 16):
            pass  # drain: the tool's output is part of its cost
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        proc.stdout.close()
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    # Linux reports both in KiB.
    peak_kib = usage.ru_maxrss
    if gnu_time and _MARK in stderr:
        stderr, _, tail = stderr.rpartition(_MARK)
        peak_kib = int(tail.split()[0])
        # GNU time's own note about the exit status is not the command's output.
        lines = stderr.splitlines(keepends=True)
        if lines and lines[-1].startswith(("Command exited with", "Command terminated by")):
            stderr = "".join(lines[:-1])
    return Sample(wall, peak_kib / 1024, proc.returncode, stderr)


def median_of(repeat: int, once: Callable[[], Sample]) -> tuple[Sample, list[Sample]]:
    """Run `once` `repeat` times; the median wall time and peak memory, and every sample."""
    samples = [once() for _ in range(max(1, repeat))]
    for s in samples:
        if s.returncode != 0:
            raise RuntimeError(f"command failed ({s.returncode}): {s.stderr.strip()[-2000:]}")
    median = Sample(
        statistics.median(s.wall_s for s in samples),
        statistics.median(s.peak_rss_mb for s in samples),
        0,
        "",
    )
    return median, samples
