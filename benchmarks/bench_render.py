"""Rendering a hostile findings document of nearly 64 MB (the loader's limit) in every format,
through the real CLI: `reviewer report --format NAME` and `reviewer post --dry-run` (no token:
the summary comment as it would be posted). The document is what a forged artifact could hold:
thousands of findings whose every field is made of the shapes that used to be quadratic
(brackets, backtick runs of every length, unclosed fences, pings, hidden characters,
workflow commands). See docs/performance.md.

    python benchmarks/bench_render.py            # 64 MB, every format
    python benchmarks/bench_render.py --mb 8     # smaller
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FORMATS = ("text", "json", "sarif", "rdjson", "rdjsonl", "markdown", "github")
LIMIT = 64 * 1024 * 1024
_UNITS = [
    "[", "](", "![", "\\`", "```\n", "~~~\n", "@a ", "<img ", "\n::error::x", "##[", "\U000e0041"
]


def _hostile(size: int, seed: int) -> str:
    ticks = "".join("`" * (k % 300) + " " for k in range(1, 120))
    parts = [ticks]
    for i in range(size):
        parts.append(_UNITS[(i + seed) % len(_UNITS)] * 40)
        if sum(map(len, parts)) >= size:
            break
    return "".join(parts)[:size]


def _finding(i: int) -> dict[str, Any]:
    return {
        "path": _hostile(300, i) or "x",
        "line": 1 + i % 50,
        "end_line": 1 + i % 50,
        "severity": ("critical", "high", "medium", "low", "info")[i % 5],
        "category": "bug",
        "title": _hostile(2_000, i + 1),
        "message": _hostile(8_000, i + 2),
        "suggestion": _hostile(4_000, i + 3),
        "fingerprint": f"fp-{i}",
    }


def build_document(limit_bytes: int) -> bytes:
    """A document just under `limit_bytes`: findings until it is full, a large error list and
    skipped files, a forged tool version."""
    doc: dict[str, Any] = {
        "schema_version": 1,
        "status": "partial",
        "tool": {"name": "reviewer", "version": _hostile(5_000, 7)},
        "model": {"backend": _hostile(2_000, 8), "name": _hostile(2_000, 9), "digest": None},
        "base": _hostile(1_000, 10),
        "head": _hostile(1_000, 11),
        "findings": [],
        "skipped": [
            {"path": _hostile(200, i), "reason": _hostile(200, i + 1)} for i in range(2_000)
        ],
        "errors": [{"kind": _hostile(100, i), "message": _hostile(20_000, i)} for i in range(20)],
    }
    base = len(json.dumps(doc, ensure_ascii=False).encode())
    one = len(json.dumps(_finding(0), ensure_ascii=False).encode()) + 2
    doc["findings"] = [_finding(i) for i in range(max(1, (limit_bytes - base) // one - 2))]
    data = json.dumps(doc, ensure_ascii=False).encode()
    while len(data) > limit_bytes:
        doc["findings"].pop()
        data = json.dumps(doc, ensure_ascii=False).encode()
    return data


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr.decode(errors="replace"))
        raise SystemExit(f"{args} exited {proc.returncode}")
    return elapsed, len(proc.stdout), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def _row(what: str, seconds: float, out: int) -> dict[str, Any]:
    print(f"{what:<28} {seconds:7.2f} s  {out:>12,} bytes out", flush=True)
    return {"what": what, "seconds": round(seconds, 2), "stdout_bytes": out}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mb", type=float, default=LIMIT / 2**20, help="document size in MiB")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "render.json")
    args = p.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["GITHUB_ACTIONS"] = "true"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hostile.json"
        data = build_document(min(LIMIT, int(args.mb * 2**20)))
        path.write_bytes(data)
        findings = len(json.loads(data)["findings"])
        print(f"document: {len(data):,} bytes, {findings:,} findings")
        cli = [sys.executable, "-m", "reviewer"]
        for name in FORMATS:
            seconds, out, rss = _timed([*cli, "report", "--findings", str(path), "-f", name], env)
            rows.append(_row(f"report --format {name}", seconds, out))
        seconds, out, rss = _timed([*cli, "post", "--findings", str(path), "--dry-run"], env)
        rows.append(_row("post --dry-run (summary)", seconds, out))
    result = {
        "document_bytes": len(data),
        "findings": findings,
        "max_rss_kb_of_any_run": rss,
        "cpus": os.cpu_count(),
        "runs": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"max RSS of any run: {rss / 1024:.0f} MB; written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
