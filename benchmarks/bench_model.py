"""Part 3: a real model. The llama.cpp server and small GGUF model of the end-to-end test
(scripts/llama_server.py), on the fixed pull request, three times: a cold review (empty cache),
a re-run on the same head (the cache must answer everything: zero model calls), and a review
after a push that changes one file (only that file's chunks may reach the model).

Every number comes from the findings document's `stats`, i.e. is reported by the tool itself."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench_tool import bench_env, reviewer_argv
from genrepo import GeneratedPR, push_one_file
from measure import run_measured

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "llama_server.py"
MODEL = "smollm2-135m-instruct"
STARTUP_TIMEOUT_S = 300.0
# As in the end-to-end test: the tiny model sometimes repeats findings up to the schema's cap,
# and a cut-off answer is invalid; on a busy 2-core machine it decodes a few tokens a second.
NUM_PREDICT = "2048"
TIMEOUT_S = "1500"
STAT_KEYS = ("chunks", "model_calls", "cache_hits", "cache_misses", "prompt_tokens",
             "cached_prompt_tokens", "estimated_prompt_tokens", "completion_tokens")  # fmt: skip


@contextmanager
def llama_server() -> Iterator[str]:
    """Start scripts/llama_server.py on a free port; yields its URL once it listens."""
    if not SERVER_SCRIPT.exists():
        raise FileNotFoundError(f"{SERVER_SCRIPT} has not landed yet")
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, str(SERVER_SCRIPT), "--port", "0"],
        stdout=subprocess.PIPE, stderr=log, text=True,
    )  # fmt: skip
    try:
        url = _first_line(proc, STARTUP_TIMEOUT_S)
        if not url.startswith("http://127.0.0.1:"):
            log.seek(0)
            tail = log.read().decode("utf-8", "replace")[-1500:]
            raise RuntimeError(f"llama_server did not start: {url!r}\n{tail}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _first_line(proc: subprocess.Popen[str], timeout: float) -> str:
    line: list[str] = []
    assert proc.stdout is not None
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return line[0].strip() if line else ""


def review(pr: GeneratedPR, url: str, cache: Path, out: Path) -> dict[str, Any]:
    argv = reviewer_argv(
        "run", "--repo", str(pr.repo), "--base", pr.base, "--head", pr.head,
        "--backend", "openai", "--base-url", url, "--model", MODEL,
        "--cache-dir", str(cache), "--output", str(out), "--format", "json",
        "--num-predict", NUM_PREDICT, "--max-findings", "1", "--timeout", TIMEOUT_S,
    )  # fmt: skip
    sample = run_measured(argv, None, bench_env())
    if not out.exists():
        raise RuntimeError(f"review wrote no document (exit {sample.returncode}): "
                           f"{sample.stderr[-1500:]}")  # fmt: skip
    doc = json.loads(out.read_text())
    stats = doc["stats"]
    row = {k: stats.get(k) for k in STAT_KEYS}
    row.update(wall_s=round(sample.wall_s, 3), exit_code=sample.returncode,
               status=doc["status"], findings=len(doc["findings"]))  # fmt: skip
    return row


def _median_row(run: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    row = dict(rows[len(rows) // 2])
    row["run"] = run
    row["wall_s"] = round(statistics.median(r["wall_s"] for r in rows), 3)
    row["wall_samples_s"] = [r["wall_s"] for r in rows]
    return row


def run_part(pr: GeneratedPR, repeat: int = 1) -> dict[str, Any]:
    work = pr.repo.parent
    with llama_server() as url:
        cold, warm = [], []
        for i in range(max(1, repeat)):
            cache = work / f"cache-{i}"
            cold.append(review(pr, url, cache, work / f"cold-{i}.json"))
            warm.append(review(pr, url, cache, work / f"warm-{i}.json"))
        # The push moves `head`; every cache holds the same entries, so one push run suffices
        # per repeat on a copy of a warm cache.
        pushed = push_one_file(pr)
        after = []
        for i in range(max(1, repeat)):
            cache = work / f"cache-push-{i}"
            shutil.copytree(work / f"cache-{i}", cache)
            after.append(review(pr, url, cache, work / f"push-{i}.json"))
    runs = [
        _median_row("cold (empty cache)", cold),
        _median_row("re-run, same head", warm),
        _median_row(f"after a one-file push ({pushed})", after),
    ]
    for r in runs:
        print(f"  model: {r['run']}: {r['wall_s']}s, {r['model_calls']} calls, "
              f"{r['cache_hits']} hits", flush=True)  # fmt: skip
    return {"model": MODEL, "pr_files": pr.files, "pr_changed_lines": pr.changed_lines,
            "pushed_file": pushed, "runs": runs}  # fmt: skip
