"""Part 6: what the prompt's format costs, and how close the token estimate is, counted by the
end-to-end model's own tokenizer (llama.cpp's POST /tokenize, served by scripts/llama_server.py),
never by reviewer's estimate.

Part 5's corpus (PyPI release pairs and this repository's last commits), each planned with the
default settings. Per corpus entry:

- the encoding ratio: tokens of every user message / tokens of the plain text they carry (each
  line shown, changed or context, and each hunk header's section text, joined by newlines,
  plus the intent and rules lines' text behind their prefixes);
- the estimate ratio: estimate_tokens of each user message / its real tokens, per chunk;
- the prompt ratio: every prompt token sent (the chat template applied to the system prompt
  and the user message, per chunk) / the tokens of the changed lines' text."""

from __future__ import annotations

import contextlib
import re
import statistics
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_context
import httpx
from bench_context import PYPI_PAIRS, QUICK_PAIRS, REPO_ROOT, own_commits, release_repo

from reviewer.chunks.prompt import (
    DIFF_BEGIN,
    DIFF_END,
    estimate_tokens,
    system_prompt,
    user_message,
)
from reviewer.errors import ReviewerError
from reviewer.models import Chunk, ReviewPlan

OWN_COMMITS, QUICK_OWN_COMMITS = bench_context.OWN_COMMITS, bench_context.QUICK_OWN_COMMITS
# A rendered line and the text it carries: a numbered added (`12 `) or removed (`7-`) line, a
# context line (` `), a removed line shown as context (`-`), a hunk header's section (`@@ `),
# an intent or rule line (`title|` ...). File headers and the frame carry no text of the diff.
_CARRIED = re.compile(r"(?:\d+[ -]|[ -]|@@ |[a-z]+\|)(?P<text>.*)", re.DOTALL)
Range = tuple[Path, str, str]


class Tokenizer:
    """The model server's own counts: /tokenize, and /apply-template for the chat template."""

    def __init__(self, url: str) -> None:
        self._client = httpx.Client(base_url=url, timeout=300)

    def count(self, text: str) -> int:
        reply = self._client.post("/tokenize", json={"content": text})
        reply.raise_for_status()
        return len(reply.json()["tokens"])

    def prompt(self, system: str, user: str) -> int:
        """Tokens of the whole prompt the server builds from the two messages."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        reply = self._client.post("/apply-template", json={"messages": messages})
        reply.raise_for_status()
        return self.count(reply.json()["prompt"])

    def close(self) -> None:
        self._client.close()


def carried_text(message: str) -> str:
    """The plain text a user message carries: each line's text behind its prefix."""
    carried = map(carried_line, message.split("\n"))
    return "\n".join([text for text in carried if text is not None])


def carried_line(line: str) -> str | None:
    """The text one line of a user message carries, or None for a line that carries none
    (the frame, a file header, a hunk header without section text)."""
    if line in (DIFF_BEGIN, DIFF_END, "@@") or line.startswith("=== "):
        return None
    match = _CARRIED.fullmatch(line)
    if match is None:
        raise ValueError(f"a line of no known shape: {line[:80]!r}")
    return match.group("text")


def changed_text(chunk: Chunk) -> str:
    """The text of the changed lines the chunk owns, joined by newlines."""
    return "\n".join(
        [cf.new_texts[n] for cf in chunk.files for n in sorted(cf.added_lines)]
        + [cf.old_texts[n] for cf in chunk.files for n in sorted(cf.removed_lines)]
    )


def chunk_counts(plan: ReviewPlan, tok: Tokenizer) -> list[dict[str, int]]:
    """Per chunk: real tokens of its user message, of the text it carries, of the whole
    prompt and of its changed lines, and the estimate of its user message."""
    system = system_prompt(plan.context)
    rows = []
    for chunk in plan.chunks:
        user = user_message(chunk, plan.context)
        rows.append({
            "user": tok.count(user),
            "carried": tok.count(carried_text(user)),
            "prompt": tok.prompt(system, user),
            "changed": tok.count(changed_text(chunk)),
            "estimate": estimate_tokens(user),
        })  # fmt: skip
    return rows


def plan_of(repo: Path, base: str, head: str) -> ReviewPlan:
    from reviewer.plan.build import build_plan
    from reviewer.settings.slices import DiffSettings

    return build_plan(DiffSettings(repo=repo, base=base, head=head), environ={})


def entry_row(label: str, counts: list[dict[str, int]]) -> dict[str, Any]:
    """The table row of one corpus entry (or of all of them)."""
    total = {k: sum(c[k] for c in counts) for k in ("user", "carried", "prompt", "changed")}
    estimate = [c["estimate"] / c["user"] for c in counts]
    return {
        "label": label,
        "chunks": len(counts),
        **{f"{k}_tokens": v for k, v in total.items()},
        "encoding_ratio": round(total["user"] / total["carried"], 3),
        "estimate_ratio_min": round(min(estimate), 3),
        "estimate_ratio_median": round(statistics.median(estimate), 3),
        "estimate_ratio_max": round(max(estimate), 3),
        "prompt_ratio": round(total["prompt"] / total["changed"], 3),
    }


def corpus(root: Path, cache: Path, quick: bool, missing: dict[str, str]) -> Iterator[
    tuple[str, list[Range]]
]:
    """Part 5's corpus entries, each as the ranges it is made of."""
    for name, old, new in QUICK_PAIRS if quick else PYPI_PAIRS:
        try:
            yield f"{name} {old} -> {new}", [(release_repo(root, cache, name, old, new),
                                              "base", "head")]  # fmt: skip
        except (OSError, ValueError, tarfile.TarError, subprocess.SubprocessError) as e:
            missing[f"encoding:{name}"] = f"{type(e).__name__}: {str(e).strip()[-300:]}"
    count = QUICK_OWN_COMMITS if quick else OWN_COMMITS
    try:
        commits = own_commits(REPO_ROOT, count)
    except RuntimeError as e:
        missing["encoding:reviewer"] = str(e)
        return
    yield f"reviewer: last {count} commits", [(REPO_ROOT, f"{c}~1", c) for c in commits]


def measure(tok: Tokenizer, label: str, ranges: list[Range], missing: dict[str, str]) -> Any:
    counts = []
    for repo, base, head in ranges:
        try:
            counts += chunk_counts(plan_of(repo, base, head), tok)
        except ReviewerError as e:  # a root commit has no parent; anything else is reported
            missing[f"encoding:{label}:{head[:10]}"] = f"{type(e).__name__}: {e}"
    return counts


@contextlib.contextmanager
def served_tokenizer(url: str | None) -> Iterator[Tokenizer]:
    """The tokenizer of the server at `url`, or of a llama.cpp server started for the
    end-to-end model when `url` is None (stopped on the way out)."""
    if url is None:
        from bench_model import llama_server

        with llama_server() as started, served_tokenizer(started) as tok:
            yield tok
        return
    tok = Tokenizer(url)
    try:
        yield tok
    finally:
        tok.close()


def run_part(root: Path, cache: Path, quick: bool, url: str | None = None) -> dict[str, Any]:
    """Every corpus entry's row, then "all". Starts the llama.cpp server unless `url` names
    one already serving the end-to-end model."""
    root.mkdir(parents=True, exist_ok=True)
    missing: dict[str, str] = {}
    rows, every = [], []
    with served_tokenizer(url) as tok:
        for label, ranges in corpus(root, cache, quick, missing):
            counts = measure(tok, label, ranges, missing)
            if counts:
                rows.append(entry_row(label, counts))
                every += counts
                _progress(rows[-1])
        system = system_prompt()
        facts = {"system_prompt_tokens": tok.count(system),
                 "template_tokens": tok.prompt(system, "") - tok.count(system)}  # fmt: skip
    if every:
        rows.append(entry_row("all", every))
    return {"rows": rows, "missing": missing, **facts}


def _progress(row: dict[str, Any]) -> None:
    print(f"  encoding: {row['label']}: encoding {row['encoding_ratio']}, estimate "
          f"{row['estimate_ratio_min']}..{row['estimate_ratio_max']}, "
          f"prompt {row['prompt_ratio']}", flush=True)  # fmt: skip
