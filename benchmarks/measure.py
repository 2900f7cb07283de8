"""Run a command and measure it: wall time and the peak resident memory of that one child
(os.wait4 gives the child's own rusage, unlike RUSAGE_CHILDREN which is a running maximum)."""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


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
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
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
    # Linux reports ru_maxrss in KiB.
    return Sample(wall, usage.ru_maxrss / 1024, proc.returncode, stderr)


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
