"""Synthetic pull requests for the benchmark: a temp git repository with a `base` and a `head`
branch whose diff has a chosen number of changed lines spread over many files.

Generation must stay cheap next to what it measures: files are written from Python and each
side is one commit (`git add -A` + `git commit`), never one git call per file.
"""

from __future__ import annotations

import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

LINES_PER_FILE = 100  # changed lines per file: a 200,000-line PR touches 2,000 files
MAX_FILES = 4_000
HUNK_SIZE = 8  # added lines inserted together, so a file has several hunks

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}

_WORDS = (
    "count total items value result index buffer offset limit config path name key data "
    "parser request response token chunk model cache retry timeout"
).split()


@dataclass(frozen=True)
class GeneratedPR:
    repo: Path
    base: str  # branch names
    head: str
    files: int
    changed_lines: int  # added + removed, as `git diff --numstat` sums them
    paths: tuple[str, ...]


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    done = subprocess.run(
        ["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


def code_line(rng: random.Random, n: int) -> str:
    """A plausible line of Python, different enough from its neighbours that git's diff
    aligns the hunks the way they were generated."""
    a, b, c = rng.sample(_WORDS, 3)
    kind = n % 4
    if kind == 0:
        return f"    {a}_{n} = {b}.get({c!r}, {rng.randint(0, 999)})"
    if kind == 1:
        return f"    if {a}_{n} > {rng.randint(1, 99)}:  # {b} {c}"
    if kind == 2:
        return f"        {b}_{n}.append({a}_{n} * {rng.randint(2, 9)})"
    return f"    log.debug('{c} %s', {a}_{n})"


def file_pair(
    rng: random.Random, changed: int, tag: str, base_lines: int = 20
) -> tuple[str, str, int]:
    """Base and head text of one file whose diff has `changed` (>= 1) changed lines.
    A fifth of the change is modified lines (one removed + one added each), the rest
    is added lines in blocks. Returns (base, head, actual changed lines)."""
    modified = changed // 5
    added = changed - 2 * modified
    base_len = max(base_lines, modified * 4, added // 2)
    base = [code_line(rng, i) for i in range(base_len)]
    head: list[str] = []
    mod_every = base_len // modified if modified else 0
    gaps = max(1, -(-added // HUNK_SIZE))  # blocks of added lines
    add_every = max(1, base_len // gaps)
    to_add = added
    for i, line in enumerate(base):
        if modified and i % mod_every == 0 and (i // mod_every) < modified:
            head.append(line + f"  # changed {tag}")
        else:
            head.append(line)
        if to_add and i % add_every == add_every - 1:
            block = min(HUNK_SIZE, to_add)
            head.extend(f"    new_{tag}_{i}_{j} = {j}" for j in range(block))
            to_add -= block
    head.extend(f"    tail_{tag}_{j} = {j}" for j in range(to_add))
    header = f"# module {tag}\n"
    return header + "\n".join(base) + "\n", header + "\n".join(head) + "\n", changed


def split_lines(total: int, files: int) -> list[int]:
    per, extra = divmod(total, files)
    return [per + (1 if i < extra else 0) for i in range(files)]


def generate_pr(
    root: Path,
    changed_lines: int,
    *,
    seed: int = 1,
    files: int | None = None,
    base_lines: int = 20,
    name: str | None = None,
) -> GeneratedPR:
    """A repository under `root` whose `base...head` diff changes `changed_lines` lines, over
    `files` files (default: one per LINES_PER_FILE changed lines, at most MAX_FILES), each at
    least `base_lines` long at base."""
    if files is None:
        files = max(1, min(MAX_FILES, -(-changed_lines // LINES_PER_FILE)))
    files = max(1, min(files, changed_lines))  # every file has at least one changed line
    rng = random.Random(seed)
    repo = root / (name or f"pr-{changed_lines}")
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "base")
    heads: dict[str, str] = {}
    paths = []
    for i, n in enumerate(split_lines(changed_lines, files)):
        rel = f"pkg{i // 100:03d}/mod_{i:05d}.py"
        base_text, head_text, _ = file_pair(rng, n, f"{i}", base_lines)
        target = repo / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(base_text)
        heads[rel] = head_text
        paths.append(rel)
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "head")
    for rel, text in heads.items():
        (repo / rel).write_text(text)
    commit_all(repo, "head")
    return GeneratedPR(
        repo, "base", "head", files, numstat_total(repo, "base", "head"), tuple(paths)
    )


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-verify", "-m", message)


def numstat_total(repo: Path, base: str, head: str) -> int:
    total = 0
    for line in git(repo, "diff", "--numstat", f"{base}...{head}").splitlines():
        added, removed, _ = line.split("\t", 2)
        total += int(added) + int(removed)
    return total


def push_one_file(pr: GeneratedPR, index: int = 0) -> str:
    """A follow-up commit on `head` that changes one more line in one file: the 'one-file
    push' whose re-review should send only that file's chunks."""
    rel = pr.paths[index]
    path = pr.repo / rel
    path.write_text(path.read_text() + "    pushed_later = compute(pushed_later)\n")
    commit_all(pr.repo, "push: one more change")
    return rel
