"""`reviewer run --dry-run`: show what would be sent (files, skips, chunks, totals) and, with
--show-prompts DIR, write every request exactly as it would be posted to the model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reviewer.backends import build_backend
from reviewer.chunks.prompt import findings_schema, prompt_overhead_tokens
from reviewer.errors import UsageError
from reviewer.findings.coverage import coverage, unreviewed_entry
from reviewer.formats.common import plural
from reviewer.models import ChunkFile, ReviewPlan
from reviewer.review.requests import applied_rules, write_all
from reviewer.security import neutralise_terminal
from reviewer.settings.slices import ModelSettings, OutputSettings, ReviewSettings

# A dry run prints the plan, not findings: as text (or rich tables on a terminal) or as JSON.
DRY_RUN_FORMATS = ("text", "json")


def check_dry_run_format(name: str) -> None:
    """Refuse a --format a dry run cannot print (sarif, markdown...: formats of findings)."""
    if name not in DRY_RUN_FORMATS:
        raise UsageError(
            f"--dry-run prints a plan, not findings, so it cannot be shown as --format {name}: "
            f"use {' or '.join(DRY_RUN_FORMATS)}",
            hint="drop --dry-run to review and print the findings in that format",
        )


def plan_summary(plan: ReviewPlan, *, line_numbers: bool = True) -> dict[str, Any]:
    """The plan as plain JSON-able data (sorted line numbers: stable output). Without
    `line_numbers` a chunk's files carry their paths only: the text report shows no more, and
    sorting every line number of a large diff is a good part of a dry run's time."""
    overhead = prompt_overhead_tokens(plan.context)
    cov = coverage(plan, plan.chunks)  # as if every chunk were answered
    entry = unreviewed_entry(cov)
    return {
        "base": plan.base,
        "head": plan.head,
        "files": [
            {"path": f.path, "status": f.status.value, "added": f.added, "removed": f.removed}
            for f in plan.files
        ],
        "skipped": [
            {
                "path": s.path,
                "reason": s.reason,
                "policy": s.policy,
                "added": s.added,
                "removed": s.removed,
            }
            for s in plan.skipped
        ],
        "coverage": cov.model_dump(),
        "chunks": [
            {
                "index": c.index,
                "estimated_tokens": c.estimated_tokens,
                "files": [_chunk_file(cf, line_numbers) for cf in c.files],
            }
            for c in plan.chunks
        ],
        "totals": {
            "files": len(plan.files),
            "skipped": len(plan.skipped),
            "added_lines": sum(f.added for f in plan.files),
            "removed_lines": sum(f.removed for f in plan.files),
            "chunks": len(plan.chunks),
            "diff_tokens": sum(c.estimated_tokens for c in plan.chunks),
            "prompt_tokens": sum(c.estimated_tokens + overhead for c in plan.chunks),
            "unreviewed_files": cov.files_unreviewed,
        },
        "unreviewed": None if entry is None else entry.message,
        "rules": [rule.model_dump() for rule in applied_rules(plan)],
    }


def _chunk_file(cf: ChunkFile, line_numbers: bool) -> dict[str, Any]:
    if not line_numbers:
        return {"path": cf.path}
    return {
        "path": cf.path,
        "added_lines": sorted(cf.added_lines),
        "context_lines": sorted(cf.context_lines),
        "removed_lines": sorted(cf.removed_lines),
    }


def write_requests(
    plan: ReviewPlan, model: ModelSettings, settings: ReviewSettings, directory: Path
) -> None:
    """--show-prompts with --dry-run: every request the review would send, built by the
    backend it would use (the object only: no connection is made)."""
    backend = build_backend(model)
    try:
        write_all(directory, plan, backend, findings_schema(settings.max_findings))
    finally:
        backend.close()


def _text_lines(summary: dict[str, Any]) -> list[str]:
    out = [f"base {summary['base'] or '-'}  head {summary['head'] or '(index or patch)'}"]
    out.append(f"Files to review ({len(summary['files'])}):")
    out += [f"  {f['status']:<9} +{f['added']:<6} -{f['removed']:<6} {f['path']}"
            for f in summary["files"]]
    out.append(f"Skipped ({len(summary['skipped'])}):")
    out += [f"  {_why(s):<28} {s['path']}" for s in summary["skipped"]]
    out.append(f"Chunks ({len(summary['chunks'])}):")
    for c in summary["chunks"]:
        names = ", ".join(cf["path"] for cf in c["files"])
        out.append(f"  #{c['index'] + 1:<4} ~{c['estimated_tokens']:>6} tokens  {names}")
    t = summary["totals"]
    out.append(
        f"Totals: {plural(t['files'], 'file')} to review ({t['added_lines']} added, "
        f"{plural(t['removed_lines'], 'removed line')}), "
        f"{t['skipped']} skipped, {plural(t['chunks'], 'chunk')}, "
        f"~{plural(t['diff_tokens'], 'diff token')} "
        f"(~{t['prompt_tokens']} with the prompt)"
    )
    if summary["rules"]:
        names = "; ".join(r["source"] for r in summary["rules"])
        out.append(f"Rules: {names}")
    if summary["unreviewed"]:
        out.append(f"Not reviewed: {summary['unreviewed']} (the review would not be complete)")
    elif not summary["chunks"]:
        out.append("Nothing to review: the review is complete with no findings.")
    out.append("Dry run: nothing was sent to the model.")
    return out


def _why(skipped: dict[str, Any]) -> str:
    return f"{skipped['reason']} ({'policy' if skipped['policy'] else 'UNREVIEWED'})"


def _print_rich(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    files = Table("status", "+", "-", "path", title="Files to review")
    for f in summary["files"]:
        files.add_row(f["status"], str(f["added"]), str(f["removed"]), Text(f["path"]))
    skipped = Table("reason", "path", title="Skipped")
    for s in summary["skipped"]:
        skipped.add_row(_why(s), Text(s["path"]))
    chunks = Table("#", "tokens", "files", title="Chunks")
    for c in summary["chunks"]:
        names = Text(", ".join(cf["path"] for cf in c["files"]))
        chunks.add_row(str(c["index"] + 1), str(c["estimated_tokens"]), names)
    for table in (files, skipped, chunks):
        console.print(table)
    lines = _text_lines(summary)
    tail = 2 + bool(summary["unreviewed"] or not summary["chunks"]) + bool(summary["rules"])
    console.print(Text("\n".join(lines[-tail:])))


def show_dry_run(plan: ReviewPlan, settings: OutputSettings) -> None:
    """Print the plan (rich tables on a terminal, plain text otherwise, JSON with --format
    json). Paths are neutralised: they come from the diff."""
    if settings.format == "json":
        sys.stdout.write(json.dumps(plan_summary(plan), indent=2) + "\n")
        return
    summary = plan_summary(plan, line_numbers=False)
    _neutralise_paths(summary)
    if sys.stdout.isatty():
        _print_rich(summary)
    else:
        sys.stdout.write("\n".join(_text_lines(summary)) + "\n")


def _neutralise_paths(summary: dict[str, Any]) -> None:
    for item in (*summary["files"], *summary["skipped"]):
        item["path"] = neutralise_terminal(item["path"])
    if summary["unreviewed"]:
        summary["unreviewed"] = neutralise_terminal(summary["unreviewed"])
    for chunk in summary["chunks"]:
        for cf in chunk["files"]:
            cf["path"] = neutralise_terminal(cf["path"])
    for rule in summary["rules"]:
        rule["source"] = neutralise_terminal(rule["source"])
