"""The benchmark's outputs: results.json, table.md (Markdown tables) and PNG plots.
matplotlib is optional (the `bench` extra): without it the tables are still written."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def md_table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---:|" * len(headers)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def tool_table(rows: list[dict[str, Any]]) -> str:
    headers = ["changed lines", "files", "git diff (s)", "dry run (s)", "dry run / git diff",
               "dry run peak RSS (MB)", "µs per changed line"]  # fmt: skip
    body = [
        [r["changed_lines"], r["files"], r["git_diff_s"], r["dry_run_s"],
         r["dry_run_s"] / r["git_diff_s"] if r["git_diff_s"] else None,
         r["dry_run_rss_mb"], 1e6 * r["dry_run_s"] / max(1, r["changed_lines"])]
        for r in rows
    ]  # fmt: skip
    return md_table(headers, body)


def calls_table(part: dict[str, Any]) -> str:
    headers = ["model calls", "chunks", "review wall (s)", "dry run (s)", "server time (s)",
               "overhead per call (ms)"]  # fmt: skip
    body = [
        [r["server_calls"], r["chunks"], r["wall_s"], r["dry_run_s"], r["server_s"],
         r["overhead_per_call_ms"]]
        for r in part["rows"]
    ]  # fmt: skip
    text = md_table(headers, body)
    if part.get("marginal_ms_per_call") is not None:
        text += f"\nMarginal cost of one more call (slope): {part['marginal_ms_per_call']} ms.\n"
    return text


def tokens_table(rows: list[dict[str, Any]]) -> str:
    headers = ["changed lines", "files", "requests (reviewer / naive)",
               "prompt tokens (reviewer)", "prompt tokens (naive)",
               "tokens per changed line (reviewer / naive)",
               "uncached tokens (reviewer / naive)"]  # fmt: skip
    body = [
        [r["changed_lines"], r["files"], f"{r['reviewer_requests']:,} / {r['naive_requests']:,}",
         r["reviewer_prompt_tokens"], r["naive_prompt_tokens"],
         f"{r['reviewer_tokens_per_line']} / {r['naive_tokens_per_line']}",
         f"{r['reviewer_uncached_tokens']:,} / {r['naive_uncached_tokens']:,}"]
        for r in rows
    ]  # fmt: skip
    return md_table(headers, body)


def stability_table(rows: list[dict[str, Any]]) -> str:
    headers = ["PR files", "chunks before", "chunks after push", "changed chunks",
               "changed chunks without the pushed file",
               "other files sharing the changed chunks", "unchanged chunks lost",
               "stable"]  # fmt: skip
    body = [
        [r["files"], r["chunks_before"], r["chunks_after"], r["changed_chunks"],
         r["changed_chunks_without_pushed_file"], r["other_files_in_changed_chunks"],
         r["unchanged_chunks_lost"], r["stable"]]
        for r in rows
    ]  # fmt: skip
    return md_table(headers, body)


def context_table(rows: list[dict[str, Any]]) -> str:
    headers = ["corpus", "context lines", "files", "added lines", "chunks", "prompt tokens",
               "tokens per added line", "extra vs 0 context (%)",
               "context lines shown", "enclosing line visible (%)", "definitions",
               "enclosing definition visible (%)"]  # fmt: skip
    body = [
        [f"**{r['label']}**" if r["label"] == "all" else r["label"], r["context_lines"],
         r["files"], r["added_lines"], r["chunks"], r["prompt_tokens"],
         r["tokens_per_added_line"], f"{r['extra_vs_0']:+.1f}", r["context_lines_shown"],
         _pct(r.get("enclosing_visible_pct")), "yes" if r.get("definitions") else "no",
         _pct(r.get("definition_visible_pct"))]
        for r in rows
    ]  # fmt: skip
    return md_table(headers, body)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def context_medians(medians: list[dict[str, Any]]) -> str:
    """One line per context size: the median corpus entry's extra tokens and visible share."""
    if not medians:
        return ""
    lines = [
        f"- N={m['context_lines']}{', definitions' if m.get('definitions') else ''}: extra "
        f"prompt tokens {_signed(m['median_extra_vs_0'])}%, enclosing line visible "
        f"{_pct(m['median_enclosing_visible_pct'])}%, enclosing definition visible "
        f"{_pct(m.get('median_definition_visible_pct'))}%"
        for m in medians
    ]
    entries = medians[0]["entries"]
    return (f"\nMedian over the {entries} corpus entries (\"all\" left out):\n\n"
            + "\n".join(lines) + "\n")  # fmt: skip


def _signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.1f}"


def context_part(part: dict[str, Any]) -> str:
    """The table, the medians per corpus entry, then where each corpus entry comes from."""
    sources = "".join(
        f"- {c['label']}: {c['source']} ({c['base_version']} -> {c['head_version']})\n"
        for c in part.get("corpus", [])
    )
    medians = context_medians(part.get("medians", []))
    return context_table(part["rows"]) + medians + (f"\nCorpus:\n\n{sources}" if sources else "")


def encoding_part(part: dict[str, Any]) -> str:
    headers = ["corpus", "chunks", "user message tokens", "carried text tokens",
               "encoding ratio", "estimate / real (min, median, max per chunk)",
               "prompt tokens", "changed-line tokens", "prompt / changed"]  # fmt: skip
    body = [
        [f"**{r['label']}**" if r["label"] == "all" else r["label"], r["chunks"],
         r["user_tokens"], r["carried_tokens"], r["encoding_ratio"],
         f"{r['estimate_ratio_min']}, {r['estimate_ratio_median']}, {r['estimate_ratio_max']}",
         r["prompt_tokens"], r["changed_tokens"], r["prompt_ratio"]]
        for r in part["rows"]
    ]  # fmt: skip
    return md_table(headers, body) + (
        f"\nSystem prompt: {part['system_prompt_tokens']} tokens; chat template: "
        f"{part['template_tokens']} tokens per request.\n"
    )


def model_table(runs: list[dict[str, Any]]) -> str:
    headers = ["run", "wall (s)", "chunks", "model calls", "cache hits", "cache misses",
               "prompt tokens", "cached prompt tokens", "estimated prompt tokens",
               "answer tokens", "findings"]  # fmt: skip
    body = [
        [r["run"], r["wall_s"], r["chunks"], r["model_calls"], r["cache_hits"],
         r["cache_misses"], r["prompt_tokens"], r["cached_prompt_tokens"],
         r["estimated_prompt_tokens"], r["completion_tokens"], r["findings"]]
        for r in runs
    ]  # fmt: skip
    return md_table(headers, body)


def write_tables(results: dict[str, Any], out: Path) -> str:
    parts = [f"# Benchmark results\n\n{machine_line(results['machine'])}\n"]
    sections: list[tuple[str, str, Callable[[Any], str]]] = [
        ("tool", "1. The tool's own cost (no model)", tool_table),
        ("calls", "2. Overhead per model call (instant fake server)", calls_table),
        ("model", "3. A real model (llama.cpp, small GGUF)", lambda p: model_table(p["runs"])),
        ("tokens", "4. Prompt tokens per changed line vs. one request per whole file",
         tokens_table),
        ("stability", "Chunking stability after a one-file push", stability_table),
        ("context", "5. Context lines: what each costs and buys", context_part),
        ("encoding", "6. What the prompt's format costs, by the model's tokenizer", encoding_part),
        ("candidates", "6, candidates: other encodings of the same chunks", candidates_table),
        ("pool", "7. Several model servers (paced fake servers)", pool_table),
    ]  # fmt: skip
    for key, title, render in sections:
        value = results.get(key)
        own = results.get(f"{key}_machine")  # a part re-run on its own, at another time
        note = f"Run separately. {machine_line(own)}\n\n" if own else ""
        if value:
            parts.append(f"## {title}\n\n{note}{render(value)}")
        elif key in results.get("missing", {}):
            parts.append(f"## {title}\n\nNot measured: {results['missing'][key]}\n")
    text = "\n".join(parts)
    (out / "table.md").write_text(text)
    return text


def candidates_table(part: dict[str, Any]) -> str:
    import bench_encoding_candidates

    return bench_encoding_candidates.table(part)


def pool_table(part: dict[str, Any]) -> str:
    import bench_pool

    rates = (
        f"Fake servers at {part['prefill_per_s']:g} prompt and {part['decode_per_s']:g} answer "
        f"tokens/s, scaled {part['scale']:g}x; one request at a time per server.\n\n"
    )
    return rates + bench_pool.table(part) + "\n"


def machine_line(machine: dict[str, Any]) -> str:
    return (
        f"Machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['platform']}, "
        f"Python {machine['python']}, {machine['git']}; reviewer at {machine['commit']}; "
        f"{machine['date']}; load average {machine.get('load_average_1m', 'n/a')} at the start; "
        f"medians of {machine['repeat']} runs."
    )


def write_json(results: dict[str, Any], out: Path) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def write_plots(results: dict[str, Any], out: Path) -> list[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (matplotlib not installed: no plots; pip install '.[bench]')")
        return []
    written = []
    if results.get("tool"):
        written.append(_plot_tool(plt, results["tool"], out / "tool_cost.png"))
    if results.get("calls"):
        written.append(_plot_calls(plt, results["calls"]["rows"], out / "call_overhead.png"))
    if results.get("tokens"):
        written.append(_plot_tokens(plt, results["tokens"], out / "tokens.png"))
    if results.get("context", {}).get("rows"):
        written.append(_plot_context(plt, results["context"]["rows"], out / "context.png"))
    return written


def _plot_tool(plt: Any, rows: list[dict[str, Any]], path: Path) -> str:
    x = [r["changed_lines"] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ax1.loglog(x, [r["dry_run_s"] for r in rows], "o-", label="reviewer run --dry-run")
    ax1.loglog(x, [r["git_diff_s"] for r in rows], "s--", label="git diff (floor)")
    ax1.set_xlabel("changed lines")
    ax1.set_ylabel("wall time, s (median)")
    ax1.set_title("Time")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend()
    ax2.semilogx(x, [r["dry_run_rss_mb"] for r in rows], "o-", label="reviewer run --dry-run")
    ax2.semilogx(x, [r["git_diff_rss_mb"] for r in rows], "s--", label="git diff")
    ax2.set_xlabel("changed lines")
    ax2.set_ylabel("peak RSS, MB")
    ax2.set_title("Peak memory")
    ax2.grid(True, which="both", alpha=0.3)
    ax2.legend()
    fig.suptitle("The tool's own cost, no model")
    return _save(plt, fig, path)


def _save(plt: Any, fig: Any, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


def _plot_calls(plt: Any, rows: list[dict[str, Any]], path: Path) -> str:
    fig, ax = plt.subplots(figsize=(6, 4))
    calls = [r["server_calls"] for r in rows]
    ax.plot(calls, [r["wall_s"] for r in rows], "o-", label="review, instant fake server")
    ax.plot(calls, [r["dry_run_s"] for r in rows], "s--", label="dry run (no calls)")
    ax.set_xlabel("model calls")
    ax.set_ylabel("wall time, s (median)")
    ax.set_title("Per-call overhead")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return _save(plt, fig, path)


def _plot_tokens(plt: Any, rows: list[dict[str, Any]], path: Path) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = [f"{r['changed_lines']:,}" for r in rows]
    pos = range(len(rows))
    ax.bar([p - 0.2 for p in pos], [r["reviewer_tokens_per_line"] for r in rows], 0.4,
           label="reviewer (diff chunks)")  # fmt: skip
    ax.bar([p + 0.2 for p in pos], [r["naive_tokens_per_line"] for r in rows], 0.4,
           label="naive (whole file per request)")  # fmt: skip
    ax.set_xticks(list(pos), labels)
    ax.set_xlabel("changed lines in the PR")
    ax.set_ylabel("prompt tokens per changed line (estimated)")
    ax.set_yscale("log")
    ax.set_title("Prompt tokens per changed line")
    ax.legend()
    return _save(plt, fig, path)


def _plot_context(plt: Any, rows: list[dict[str, Any]], path: Path) -> str:
    """Cost (extra prompt tokens) and benefit (enclosing line visible) against N, one line per
    corpus entry, "all" in bold."""
    fig, (cost, gain) = plt.subplots(1, 2, figsize=(13, 4.8))
    _context_lines(cost, rows, "extra_vs_0")
    cost.set_ylabel("extra prompt tokens vs 0 context, %")
    cost.set_title("What context lines cost")
    _context_lines(gain, rows, "definition_visible_pct")
    gain.set_ylabel("runs of added lines whose enclosing def/class is visible, %")
    gain.set_title("What they buy: the enclosing definition in view")
    gain.legend(fontsize=8)
    fig.suptitle("Context lines on real releases and commits")
    return _save(plt, fig, path)


def _context_lines(ax: Any, rows: list[dict[str, Any]], key: str) -> None:
    labels = list(dict.fromkeys(r["label"] for r in rows))  # corpus order, "all" last
    for label in labels:
        for definitions in (False, True):
            mine = [r for r in rows if r["label"] == label and r.get(key) is not None
                    and bool(r.get("definitions")) == definitions]  # fmt: skip
            if not mine or (definitions and label != "all"):
                continue  # with definitions: only the sum, dashed, so the plot stays legible
            bold = label == "all"
            ax.plot([r["context_lines"] for r in mine], [r[key] for r in mine],
                    ("o--" if definitions else "o-") if bold else ".-",
                    label=f"{label}, definitions" if definitions else label,
                    linewidth=3 if bold else 1.2, color="black" if bold else None,
                    zorder=3 if bold else 2)  # fmt: skip
    ax.set_xticks(sorted({r["context_lines"] for r in rows}))
    ax.set_xlabel("context lines (--context-lines N)")
    ax.grid(True, alpha=0.3)
