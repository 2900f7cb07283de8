"""A long fuzzing session outside CI over the properties of
tests/reliability/test_fuzz_properties.py, for as many examples as a time budget allows.

Two engines. `hypothesis`: the properties' own strategies, in rounds of fresh random seeds
(every failure shrunk). `mutate` (text and bytes targets): seeds drawn from those strategies,
then random mutations (deletions, repeats, splices between inputs, diff/JSON tokens, random
code points), thousands a second; inputs the parser accepts join the seeds. Every failure is
saved under fuzz/crashes/ (keep each as a regression test in that file, then fix it). Figures
go to fuzz/results.json.

    .venv/bin/python fuzz/run.py --minutes 16                # all targets, time shared
    .venv/bin/python fuzz/run.py --minutes 2 --target chunker
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "reliability"))
sys.path.insert(0, str(HERE.parent / "tests"))

import test_fuzz_properties as props  # noqa: E402

ROUND = 2000  # examples per hypothesis run; a new seed each round keeps the search wide


class Counted:
    """A property that counts its calls (shrinking calls included, reported apart)."""

    def __init__(self, check: Callable[..., None]) -> None:
        self.check = check
        self.calls = 0

    def __call__(self, *args: Any) -> None:
        self.calls += 1
        self.check(*args)


def one_round(name: str, counted: Counted, round_seed: int) -> str | None:
    """One hypothesis run of ROUND examples; the shrunk failure's report, or None."""
    _, strategies = props.TARGETS[name]

    @seed(round_seed)
    @settings(
        max_examples=ROUND,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.tuples(*strategies))
    def run(args: tuple[Any, ...]) -> None:
        counted(*args)

    try:
        run()
    except Exception:  # noqa: BLE001 - a failing property: record it and go on
        return traceback.format_exc()
    return None


# --- the mutation engine ---------------------------------------------------------------------

TOKENS = [
    "\n", "\r\n", "\r", "@@ -1,2 +1,3 @@\n", "@@ -0,0 +1 @@", "diff --git a/x b/x\n", "+", "-",
    " ", "\\ No newline at end of file\n", '"', "\\", "\\303", "\\x", "{", "}", "[", "]", ",",
    ":", "null", "0", "-1", "1e400", "\x00", "\u2028", "\x7f", "\x1b[2J", "```", "```json\n",
    '"findings"', '"line"', '"end_line"', "--- a/", "+++ b/", "/dev/null", "rename from ",
    "rename to ", "new file mode 160000\n", "GIT binary patch\n", "99999999999999999999",
    "\\ud800", "\ufeff", "\t",
]
# Targets fed text, and whether the property takes bytes.
TEXT_TARGETS = {"diff_parser": False, "answer_parser": False, "document_loader": True}


def _mutate(rng: random.Random, text: str, corpus: list[str], narrow: bool) -> str:
    for _ in range(rng.randint(1, 4)):
        i = rng.randint(0, len(text))
        j = rng.randint(i, min(len(text), i + 24))
        op = rng.randrange(6)
        if op == 0:
            text = text[:i] + text[j:]
        elif op == 1:
            text = text[:i] + rng.choice(TOKENS) + text[i:]
        elif op == 2:
            text = text[:i] + text[i:j] * rng.randint(2, 6) + text[j:]
        elif op == 3:
            other = rng.choice(corpus)
            k = rng.randint(0, len(other))
            text = text[:i] + other[k : k + rng.randint(0, 120)] + text[j:]
        elif op == 4:
            code = rng.randrange(256 if narrow else 0x110000)
            char = chr(code) if not 0xD800 <= code < 0xE000 else "\ufffd"
            text = text[:i] + char + text[j:]
        else:
            lines = text.split("\n")
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text


def _seeds(name: str, n: int) -> list[str]:
    """Inputs drawn from the property's own strategy (as latin-1 text for bytes targets)."""
    strategy = props.TARGETS[name][1][0]
    out: list[str] = []

    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value: Any) -> None:
        out.append(value.decode("latin-1") if isinstance(value, bytes) else value)

    draw()
    return out


def mutate_target(name: str, budget: float, rng: random.Random) -> dict[str, Any]:
    check, as_bytes = props.TARGETS[name][0], TEXT_TARGETS[name]
    corpus = _seeds(name, 500)
    started, calls, failures = time.monotonic(), 0, []
    while time.monotonic() - started < budget and len(failures) < 3:
        for _ in range(500):
            text = _mutate(rng, rng.choice(corpus), corpus, narrow=as_bytes)
            value: Any = text.encode("utf-8" if not as_bytes else "latin-1", "replace")
            if not as_bytes:
                value = text
            calls += 1
            try:
                check(value)
            except Exception:  # noqa: BLE001 - a failing property: record it and go on
                failures.append(_save(name, len(failures) + 1, repr(value), traceback.format_exc()))
                break
            if len(corpus) < 20_000 and rng.random() < 0.01:
                corpus.append(text)  # widen the seeds with inputs that passed
    return {"engine": "mutate", "property_calls": calls, "seeds": 500,
            "seconds": round(time.monotonic() - started, 1), "failures": failures}


def _save(name: str, n: int, value: str, report: str) -> str:
    crashes_dir = HERE / "crashes"
    crashes_dir.mkdir(exist_ok=True)
    path = crashes_dir / f"{name}-{n}.txt"
    path.write_text(f"input: {value}\n\n{report}")
    print(f"{name}: FAILURE saved to {path}", flush=True)
    return str(path.relative_to(HERE.parent))


def hypothesis_target(name: str, budget: float) -> dict[str, Any]:
    counted = Counted(props.TARGETS[name][0])
    started, rounds, failures = time.monotonic(), 0, []
    while time.monotonic() - started < budget and len(failures) < 3:
        report = one_round(name, counted, round_seed=rounds * 7919 + 17)
        rounds += 1
        if report is not None:
            failures.append(_save(name, len(failures) + 1, "(see the report)", report))
    return {"engine": "hypothesis", "property_calls": counted.calls, "rounds": rounds,
            "seconds": round(time.monotonic() - started, 1), "failures": failures}


def fuzz(targets: list[str], minutes: float, out: Path, engine: str) -> dict[str, Any]:
    budget = minutes * 60 / len(targets)
    rng = random.Random(20240607)  # noqa: S311 - fuzzing, not security
    results: dict[str, Any] = {}
    for name in targets:
        if engine == "mutate" and name in TEXT_TARGETS:
            results[name] = mutate_target(name, budget, rng)
        else:
            results[name] = hypothesis_target(name, budget)
        print(f"{name}: {results[name]}", flush=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=16.0)
    parser.add_argument("--target", action="append", choices=sorted(props.TARGETS))
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--engine", choices=["mutate", "hypothesis"], default="mutate")
    args = parser.parse_args()
    results = fuzz(args.target or list(props.TARGETS), args.minutes, args.out, args.engine)
    total = sum(r["property_calls"] for r in results.values())
    failed = sum(len(r["failures"]) for r in results.values())
    print(f"total: {total} property calls, {failed} failing rounds", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
