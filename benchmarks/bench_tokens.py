"""Part 4: prompt tokens per changed line, reviewer's chunks against a naive baseline that
sends each changed file whole (system prompt + the file at head, one request per file), and the
chunking-stability check: after a one-file push, only that file's chunks may change.

Both sides use the same estimator (reviewer.chunks.prompt.estimate_tokens), so the ratio is
fair even where the estimate is off; part 3 reports the server's real counts beside it."""

from __future__ import annotations

import subprocess
from typing import Any

from genrepo import GeneratedPR, git, push_one_file

from reviewer.chunks.prompt import (
    MESSAGE_OVERHEAD_TOKENS,
    SYSTEM_PROMPT,
    estimate_tokens,
    render_user_message,
)
from reviewer.models import Chunk, ReviewPlan
from reviewer.settings.slices import DiffSettings


def build(pr: GeneratedPR, head: str | None = None) -> ReviewPlan:
    from reviewer.plan.build import build_plan  # lands with the diff pipeline

    return build_plan(DiffSettings(repo=pr.repo, base=pr.base, head=head or pr.head))


def request_tokens(user: str) -> int:
    return int(estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(user) + MESSAGE_OVERHEAD_TOKENS)


def file_at(pr: GeneratedPR, ref: str, path: str) -> str:
    try:
        return git(pr.repo, "show", f"{ref}:{path}")
    except subprocess.CalledProcessError:
        return ""  # deleted at head: the naive reviewer would send nothing


def compare(pr: GeneratedPR) -> dict[str, Any]:
    plan = build(pr)
    ours = sum(request_tokens(render_user_message(c.text)) for c in plan.chunks)
    naive = sum(request_tokens(file_at(pr, pr.head, f.path)) for f in plan.files)
    system = estimate_tokens(SYSTEM_PROMPT) + MESSAGE_OVERHEAD_TOKENS
    lines = max(1, pr.changed_lines)
    return {
        "changed_lines": pr.changed_lines,
        "files": len(plan.files),
        "chunks": len(plan.chunks),
        "reviewer_requests": len(plan.chunks),
        "naive_requests": len(plan.files),
        "reviewer_prompt_tokens": ours,
        "naive_prompt_tokens": naive,
        # A server's prefix cache reuses the byte-identical system prompt: what is left to read.
        "reviewer_uncached_tokens": ours - system * len(plan.chunks),
        "naive_uncached_tokens": naive - system * len(plan.files),
        "reviewer_tokens_per_line": round(ours / lines, 2),
        "naive_tokens_per_line": round(naive / lines, 2),
    }


def stability(pr: GeneratedPR) -> dict[str, Any]:
    """Push one more change to one file and compare the chunks before and after. Chunking may
    group small files, so "that file's chunks" are the chunks that contain it: every changed
    chunk must contain the pushed file, and every chunk without it must be byte-identical."""
    before = build(pr)
    pushed = push_one_file(pr)
    after = build(pr)
    old_texts = {c.text for c in before.chunks}
    new_texts = {c.text for c in after.chunks}
    changed = [c for c in after.chunks if c.text not in old_texts]
    foreign = [c for c in changed if pushed not in _paths(c)]
    lost = [c for c in before.chunks if pushed not in _paths(c) and c.text not in new_texts]
    companions = {p for c in changed for p in _paths(c)} - {pushed}
    return {
        "pushed_file": pushed,
        "chunks_before": len(before.chunks),
        "chunks_after": len(after.chunks),
        "changed_chunks": len(changed),
        "changed_chunks_without_pushed_file": len(foreign),
        "other_files_in_changed_chunks": len(companions),
        "unchanged_chunks_lost": len(lost),
        "stable": not foreign and not lost and bool(changed),
    }


def _paths(chunk: Chunk) -> set[str]:
    return {f.path for f in chunk.files}


def run_part(prs: list[GeneratedPR]) -> list[dict[str, Any]]:
    rows = []
    for pr in prs:
        row = compare(pr)
        print(
            f"  tokens: {row['changed_lines']:>6} lines: reviewer "
            f"{row['reviewer_tokens_per_line']} tok/line, naive {row['naive_tokens_per_line']}",
            flush=True,
        )
        rows.append(row)
    return rows
