"""Part 2: the tool's overhead per model call, against an instant local fake Ollama server.

overhead per call = (wall time of the review - wall time of the dry run on the same PR
                     - time the server spent answering) / model calls
The dry run is subtracted so interpreter start-up and diff reading are not spread over the calls.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from bench_tool import bench_env, dry_run_argv, reviewer_argv
from fakeserver import fake_ollama
from genrepo import GeneratedPR, generate_pr
from measure import median_of, run_measured

LINES_PER_CALL_FILE = 12  # one small file is one chunk


def review_argv(pr: GeneratedPR, url: str, output: Path, cache: Path | None) -> list[str]:
    argv = reviewer_argv(
        "run", "--repo", str(pr.repo), "--base", pr.base, "--head", pr.head,
        "--backend", "ollama", "--ollama-url", url, "--model", "bench-model",
        "--output", str(output), "--format", "json",
        "--max-chunks", "100000",  # this part measures runs of up to hundreds of calls
    )  # fmt: skip
    return argv + (["--cache-dir", str(cache)] if cache else ["--no-cache"])


def read_stats(document: Path) -> dict[str, Any]:
    stats: dict[str, Any] = json.loads(document.read_text())["stats"]
    return stats


def measure_calls(root: Path, files: int, repeat: int) -> dict[str, Any]:
    pr = generate_pr(root, files * LINES_PER_CALL_FILE, files=files, name=f"calls-{files}")
    env = bench_env()
    dry, _ = median_of(repeat, lambda: run_measured(dry_run_argv(pr), None, env))
    walls, server, calls = [], [], []
    stats: dict[str, Any] = {}
    with fake_ollama() as (url, counters):
        for i in range(max(1, repeat)):
            before_s, before_n = counters.server_s, counters.chat_calls
            out = root / f"calls-{files}-{i}.json"
            sample = run_measured(review_argv(pr, url, out, None), None, env)
            if sample.returncode != 0:
                raise RuntimeError(f"review failed ({sample.returncode}): {sample.stderr[-2000:]}")
            stats = read_stats(out)
            walls.append(sample.wall_s)
            server.append(counters.server_s - before_s)
            calls.append(counters.chat_calls - before_n)
    wall, server_s, n = statistics.median(walls), statistics.median(server), calls[-1]
    per_call = (wall - dry.wall_s - server_s) / n if n else float("nan")
    return {
        "files": files,
        "chunks": stats.get("chunks"),
        "model_calls": stats.get("model_calls"),
        "server_calls": n,
        "wall_s": round(wall, 4),
        "dry_run_s": round(dry.wall_s, 4),
        "server_s": round(server_s, 4),
        "overhead_per_call_ms": round(per_call * 1000, 2),
        "wall_samples_s": [round(w, 4) for w in walls],
    }


def marginal_ms(rows: list[dict[str, Any]]) -> float | None:
    """The slope of wall time over calls between the smallest and the largest run, minus the
    server's own time per call: the cost one more call adds, start-up excluded."""
    if len(rows) < 2:
        return None
    lo, hi = rows[0], rows[-1]
    extra_calls = hi["server_calls"] - lo["server_calls"]
    if extra_calls <= 0:
        return None
    slope = float(hi["wall_s"] - lo["wall_s"] - (hi["server_s"] - lo["server_s"])) / extra_calls
    return float(round(slope * 1000, 2))


def run_part(root: Path, counts: list[int], repeat: int) -> dict[str, Any]:
    rows = []
    for files in counts:
        row = measure_calls(root, files, repeat)
        print(
            f"  per call: {row['server_calls']:>4} calls: wall {row['wall_s']:.3f}s, "
            f"overhead {row['overhead_per_call_ms']:.2f} ms/call",
            flush=True,
        )
        rows.append(row)
    return {"rows": rows, "marginal_ms_per_call": marginal_ms(rows)}
