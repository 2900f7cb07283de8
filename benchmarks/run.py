"""The reviewer benchmark: the tool's own cost, per-call overhead, a real small model with the
response cache, prompt tokens per changed line, what context lines cost, what the prompt's
format costs by the model's own tokenizer, and several model servers. See docs/performance.md.

    python benchmarks/run.py                 # everything, default sizes, 3 runs each
    python benchmarks/run.py --quick         # small sizes, one run: a smoke test
    python benchmarks/run.py --sizes 1,1000,200000 --repeat 5 --parts tool,calls
    python benchmarks/run.py --parts context  # part 5 alone (downloads a few sdists once)
    python benchmarks/run.py --parts encoding  # part 6 alone (part 5's corpus, llama.cpp)
    python benchmarks/run.py --parts candidates  # part 6's candidate encodings (llama.cpp)
    python benchmarks/run.py --parts pool     # part 7: 1, 2 and 4 model servers
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the helpers beside this script, also when imported by a test

import bench_calls  # noqa: E402
import bench_context  # noqa: E402
import bench_pool  # noqa: E402
import bench_tokens  # noqa: E402
import bench_tool  # noqa: E402
import report  # noqa: E402
from genrepo import GeneratedPR, generate_pr  # noqa: E402

PARTS = ("tool", "calls", "model", "tokens", "context", "encoding", "candidates", "pool")
DEFAULT_SIZES = [1, 1_000, 10_000, 50_000, 200_000]
QUICK_SIZES = [1, 100, 1_000]
DEFAULT_CALLS = [1, 20, 100, 400]  # files; chunks group about 4 small files
QUICK_CALLS = [1, 8]
TOKEN_SIZES = [30, 300, 3_000, 30_000]  # over files of about 400 lines, 30 changed lines each
QUICK_TOKEN_SIZES = [30, 300]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes and one run (smoke test)")
    p.add_argument("--sizes", type=_ints, help="changed lines per generated PR (part 1)")
    p.add_argument("--calls", type=_ints, help="files per generated PR (part 2); calls = chunks")
    p.add_argument("--repeat", type=int, help="runs per measurement; the median is reported")
    p.add_argument(
        "--parts", type=_parts, default=list(PARTS), help="comma list of " + ",".join(PARTS)
    )
    p.add_argument("--out", type=Path, default=HERE / "results", help="results directory")
    p.add_argument("--keep", action="store_true", help="keep the generated repositories")
    return p.parse_args(argv)


def _ints(text: str) -> list[int]:
    return [int(v.replace("_", "")) for v in text.split(",") if v.strip()]


def _parts(text: str) -> list[str]:
    parts = [v.strip() for v in text.split(",") if v.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown part(s): {', '.join(sorted(unknown))}")
    return parts


def fixed_pr(root: Path) -> GeneratedPR:
    """The small, fixed pull request parts 3 and 4 share: 6 files of 60+ lines, 60 changed
    lines. Small on purpose: the tiny model decodes at a few tokens a second on a busy runner."""
    return generate_pr(root, 60, files=6, base_lines=60, seed=7, name="fixed")


def machine(repeat: int) -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "git": _out(["git", "--version"]),
        "commit": _out(["git", "-C", str(HERE.parent), "rev-parse", "--short", "HEAD"]),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "repeat": repeat,
        # A shared machine's load at the start: timings scale with it.
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _out(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_parts(args: argparse.Namespace, root: Path, results: dict[str, Any]) -> None:
    quick = args.quick
    repeat = args.repeat or (1 if quick else 3)
    results["machine"] = machine(repeat)
    missing: dict[str, str] = results.setdefault("missing", {})
    if "tool" in args.parts:
        print("part 1: the tool's own cost", flush=True)
        sizes = args.sizes or (QUICK_SIZES if quick else DEFAULT_SIZES)
        results["tool"] = bench_tool.run_part(root / "tool", sizes, repeat)
    if "calls" in args.parts:
        print("part 2: overhead per model call", flush=True)
        counts = args.calls or (QUICK_CALLS if quick else DEFAULT_CALLS)
        _guard(missing, "calls", lambda: results.__setitem__(
            "calls", bench_calls.run_part(root / "calls", counts, repeat)))  # fmt: skip
    if "model" in args.parts:
        print("part 3: a real model", flush=True)
        _guard(missing, "model", lambda: _model(root, args, results))
    if "tokens" in args.parts:
        print("part 4: tokens per changed line, chunking stability", flush=True)
        _guard(missing, "tokens", lambda: _tokens(root, quick, results))
    if "context" in args.parts:
        print("part 5: what context lines cost", flush=True)
        _guard(missing, "context", lambda: _context(root, args.out, quick, results))
    if "encoding" in args.parts:
        print("part 6: what the prompt's format costs, by the model's tokenizer", flush=True)
        _guard(missing, "encoding", lambda: _encoding(root, args.out, quick, results))
    if "candidates" in args.parts:
        print("part 6, candidates: other encodings of the same chunks", flush=True)
        _guard(missing, "candidates", lambda: _candidates(root, args.out, quick, results))
    if "pool" in args.parts:
        print("part 7: several model servers", flush=True)
        _guard(missing, "pool", lambda: results.__setitem__(
            "pool", bench_pool.run_part(root / "pool", args.repeat or 1, quick)))  # fmt: skip


def _model(root: Path, args: argparse.Namespace, results: dict[str, Any]) -> None:
    import bench_model

    results["model"] = bench_model.run_part(fixed_pr(root / "model"), args.repeat or 1)


def _tokens(root: Path, quick: bool, results: dict[str, Any]) -> None:
    sizes = QUICK_TOKEN_SIZES if quick else TOKEN_SIZES
    prs = [fixed_pr(root / "tokens")] + [
        generate_pr(root / "tokens", n, files=max(1, n // 30), base_lines=400) for n in sizes
    ]
    results["tokens"] = bench_tokens.run_part(prs)
    stable_prs = [fixed_pr(root / "stability"), generate_pr(root / "stability", 3_000)]
    results["stability"] = [{"files": pr.files, **bench_tokens.stability(pr)} for pr in stable_prs]


def _context(root: Path, out: Path, quick: bool, results: dict[str, Any]) -> None:
    # The sdists are cached beside the results, so a re-run does not download them again.
    part = bench_context.run_part(root / "context", out / "sdists", quick)
    results.setdefault("missing", {}).update(part.pop("missing"))
    results["context"] = part


def _encoding(root: Path, out: Path, quick: bool, results: dict[str, Any]) -> None:
    import bench_encoding

    part = bench_encoding.run_part(root / "encoding", out / "sdists", quick)
    results.setdefault("missing", {}).update(part.pop("missing"))
    results["encoding"] = part


def _candidates(root: Path, out: Path, quick: bool, results: dict[str, Any]) -> None:
    import bench_encoding_candidates

    part = bench_encoding_candidates.run_part(root / "candidates", out / "sdists", quick)
    results.setdefault("missing", {}).update(part.pop("missing"))
    results["candidates"] = part


def _guard(missing: dict[str, str], part: str, fn: Any) -> None:
    """A part whose pipeline piece is missing or broken is reported, not fatal to the rest."""
    try:
        fn()
    except (ImportError, RuntimeError, FileNotFoundError) as e:
        missing[part] = f"{type(e).__name__}: {str(e).strip()[-500:]}"
        print(f"  skipped: {missing[part]}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="reviewer-bench-"))
    results: dict[str, Any] = {}
    try:
        run_parts(args, root, results)
    finally:
        if args.keep:
            print(f"repositories kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    report.write_json(results, args.out)
    print(report.write_tables(results, args.out))
    plots = report.write_plots(results, args.out)
    print(f"wrote {args.out}/results.json, table.md" + "".join(f", {p}" for p in plots))
    return 0


if __name__ == "__main__":
    sys.exit(main())
