"""Part 1: the tool's own cost with no model. `reviewer run --dry-run` (read the diff, parse,
filter, chunk, render what would be sent) beside `git diff base...head` on the same range,
which is the floor: the tool cannot be faster than reading the diff."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from genrepo import GIT_ENV, GeneratedPR, generate_pr
from measure import median_of, run_measured


def reviewer_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "reviewer", *args]


def bench_env() -> dict[str, str]:
    env = {**os.environ, **GIT_ENV}
    env.pop("LOCAL_LLM_OPTIONAL", None)  # the benchmark must see real failures
    return env


def dry_run_argv(pr: GeneratedPR) -> list[str]:
    return reviewer_argv(
        "run", "--dry-run", "--repo", str(pr.repo), "--base", pr.base, "--head", pr.head
    )


def measure_size(root: Path, size: int, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    pr = generate_pr(root, size)
    gen_s = time.perf_counter() - started
    env = bench_env()
    git_argv = ["git", "diff", f"{pr.base}...{pr.head}"]
    git_med, git_all = median_of(repeat, lambda: run_measured(git_argv, pr.repo, env))
    dry_med, dry_all = median_of(repeat, lambda: run_measured(dry_run_argv(pr), None, env))
    return {
        "changed_lines": pr.changed_lines,
        "files": pr.files,
        "generate_s": round(gen_s, 3),
        "git_diff_s": round(git_med.wall_s, 4),
        "git_diff_rss_mb": round(git_med.peak_rss_mb, 1),
        "dry_run_s": round(dry_med.wall_s, 4),
        "dry_run_rss_mb": round(dry_med.peak_rss_mb, 1),
        "dry_run_samples_s": [round(s.wall_s, 4) for s in dry_all],
        "git_diff_samples_s": [round(s.wall_s, 4) for s in git_all],
    }


def run_part(root: Path, sizes: list[int], repeat: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        row = measure_size(root, size, repeat)
        print(
            f"  tool cost: {row['changed_lines']:>7} lines / {row['files']:>4} files: "
            f"git diff {row['git_diff_s']:.3f}s, dry run {row['dry_run_s']:.3f}s "
            f"{row['dry_run_rss_mb']:.0f} MB",
            flush=True,
        )
        rows.append(row)
    return rows
