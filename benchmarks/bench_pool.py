"""Part 6: several model servers. The wall time of one fixed many-chunk pull request reviewed
on 1, 2 and 4 fake Ollama servers that each answer one request at a time after a model's time
for it (prompt tokens / prefill rate + answer tokens / decode rate), so the speedup measured,
wall(1) / wall(N), is reviewer's own: how well it spreads chunks and how little it adds.

The rates are a small model on CPU (200 prompt tokens/s, 20 answer tokens/s) scaled up by
SCALE so one round (1, 2 and 4 servers) takes about a minute on a 2-core machine; the ratio is
what counts, not the seconds. One run by default (as part 3): --repeat N for medians.
"""

from __future__ import annotations

import contextlib
import json
import statistics
from pathlib import Path
from typing import Any

from bench_tool import bench_env, reviewer_argv
from fakeserver import Pace, fake_ollama
from genrepo import GeneratedPR, generate_pr
from measure import run_measured

PREFILL_PER_S, DECODE_PER_S = 200.0, 20.0
SCALE = 8.0  # the fake model is this many times faster than the CPU one above
SERVERS = (1, 2, 4)
QUICK_SERVERS = (1, 2)
# 76 small files: with the default --num-ctx 24 chunks (the part reports the count).
FILES, LINES = 76, 76 * 12


def pool_pr(root: Path) -> GeneratedPR:
    return generate_pr(root, LINES, files=FILES, seed=11, name="pool")


def review_argv(pr: GeneratedPR, urls: list[str], output: Path) -> list[str]:
    argv = reviewer_argv(
        "run", "--repo", str(pr.repo), "--base", pr.base, "--head", pr.head,
        "--backend", "ollama", "--model", "bench-model", "--output", str(output),
        "--format", "json", "--no-cache",
    )  # fmt: skip
    for url in urls:
        argv += ["--ollama-url", url]
    return argv


def measure(pr: GeneratedPR, root: Path, servers: int, repeat: int) -> dict[str, Any]:
    pace = Pace(PREFILL_PER_S * SCALE, DECODE_PER_S * SCALE)
    walls: list[float] = []
    stats: dict[str, Any] = {}
    per_server: list[int] = []
    with contextlib.ExitStack() as stack:
        fakes = [stack.enter_context(fake_ollama(pace=pace)) for _ in range(servers)]
        for i in range(max(1, repeat)):
            out = root / f"pool-{servers}-{i}.json"
            before = [c.chat_calls for _, c in fakes]
            sample = run_measured(review_argv(pr, [u for u, _ in fakes], out), None, bench_env())
            if sample.returncode != 0:
                raise RuntimeError(f"review failed ({sample.returncode}): {sample.stderr[-2000:]}")
            doc = json.loads(out.read_text())
            stats = doc["stats"]
            walls.append(sample.wall_s)
            per_server = [c.chat_calls - b for (_, c), b in zip(fakes, before, strict=True)]
    return {
        "servers": servers,
        "chunks": stats.get("chunks"),
        "prompt_tokens": stats.get("prompt_tokens"),
        "wall_s": round(statistics.median(walls), 3),
        "wall_samples_s": [round(w, 3) for w in walls],
        "calls_per_server": per_server,
    }


def run_part(root: Path, repeat: int = 1, quick: bool = False) -> dict[str, Any]:
    root.mkdir(parents=True, exist_ok=True)
    pr = pool_pr(root)
    rows = [measure(pr, root, n, repeat) for n in (QUICK_SERVERS if quick else SERVERS)]
    one = rows[0]["wall_s"]
    for row in rows:
        row["speedup"] = round(one / row["wall_s"], 2) if row["wall_s"] else None
    return {
        "prefill_per_s": PREFILL_PER_S,
        "decode_per_s": DECODE_PER_S,
        "scale": SCALE,
        "rows": rows,
    }


def table(part: dict[str, Any]) -> str:
    lines = [
        "| servers | chunks | calls per server | wall (s) | speedup |",
        "|---:|---:|---|---:|---:|",
    ]
    for r in part["rows"]:
        calls = ", ".join(str(c) for c in r["calls_per_server"])
        lines.append(
            f"| {r['servers']} | {r['chunks']} | {calls} | {r['wall_s']:.2f} | {r['speedup']:.2f} |"
        )
    return "\n".join(lines)
