"""Part 5: what context lines and enclosing definitions cost, and what they buy. The same real
code changes are planned with 0 to 8 unchanged lines around each change
(`--context-lines N`), each without and with the enclosing definitions in the hunk headers
(`--no-definitions`, `--definitions`), and the prompt tokens counted with reviewer's estimator,
so the defaults can be chosen by measurement, not habit.

The benefit is measured mechanically, in any language that indents its blocks: for each run of
added lines, is its enclosing line (the nearest line above it, in the new file, that is less
indented: the `if`, `def` or class the change lives in, or a continuation line's statement)
visible to the model, either among the lines the chunk shows or as the section text git puts
in the hunk header? And for each run inside a `def` or `class`: is that definition line
visible, among the lines shown or in a hunk header of the chunk that owns the run?

The corpus is real: consecutive releases of well-known Python projects (sdists from PyPI, the
old release committed as `base`, the new one as `head`) and this repository's own last commits,
each against its first parent. A release that cannot be downloaded is reported, not fatal."""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from genrepo import commit_all, git

from reviewer.chunks.prompt import exact_estimate, prompt_overhead_tokens
from reviewer.errors import ReviewerError
from reviewer.models import DiffLine, Hunk, LineKind, ReviewPlan
from reviewer.settings.slices import DiffSettings

CONTEXTS = tuple(range(9))
# (project, old release, new release): small releases, about the size of a pull request.
# httpx 0.27.0 -> 0.27.2 adds a large docs page: a real diff, kept on purpose.
PYPI_PAIRS = (
    ("click", "8.1.6", "8.1.7"),
    ("requests", "2.32.2", "2.32.3"),
    ("rich", "13.7.0", "13.7.1"),
    ("httpx", "0.27.0", "0.27.2"),
    ("attrs", "24.1.0", "24.2.0"),
    ("packaging", "24.0", "24.1"),
    ("pluggy", "1.4.0", "1.5.0"),
)
QUICK_PAIRS = PYPI_PAIRS[:2]
OWN_COMMITS = 30
QUICK_OWN_COMMITS = 5
REPO_ROOT = Path(__file__).resolve().parent.parent
DOWNLOAD_TIMEOUT_S = 300

# Counts that add up over corpus entries; the per-line and relative columns are derived.
SUMMED = ("files", "added_lines", "hunks", "chunks", "diff_tokens", "prompt_tokens",
          "context_lines_shown", "indented_runs", "enclosing_visible",
          "top_level_runs", "defined_runs", "definition_visible")  # fmt: skip
Sample = dict[str, int]
TAB_WIDTH = 4  # columns a tab counts for in an indentation
# git cuts a hunk header's section text at 80 bytes (xdiff's function-line buffer), then drops
# trailing blanks: a long `def` line is shown cut, and still names the function.
GIT_SECTION_BYTES = 80
# The new file's lines, per (head commit, path): read once per corpus entry, for every N.
Blobs = dict[tuple[str, str], list[str]]


# --- measuring -------------------------------------------------------------------------------


def sample(
    repo: Path,
    base: str,
    head: str,
    context_lines: int,
    blobs: Blobs | None = None,
    definitions: bool = False,
) -> Sample:
    """The plan's counts for one range at one context size, with or without the enclosing
    definitions in the hunk headers (`--definitions`)."""
    from reviewer.plan.build import build_plan

    settings = DiffSettings(repo=repo, base=base, head=head, context_lines=context_lines,
                            definitions=definitions)  # fmt: skip
    plan = build_plan(settings, environ={})
    visible = enclosing_counts(repo, plan, head, {} if blobs is None else blobs)
    # The estimator's exact form on both variants: the chunker's fast form for ASCII text
    # counts a little more, and a header's `›` would move a chunk from one form to the other.
    diff_tokens = sum(exact_estimate(c.text) for c in plan.chunks)
    return {
        "files": len(plan.files),
        "added_lines": sum(f.added for f in plan.files),
        "hunks": sum(len(f.hunks) for f in plan.files),
        "chunks": len(plan.chunks),
        "diff_tokens": diff_tokens,
        "prompt_tokens": diff_tokens + len(plan.chunks) * prompt_overhead_tokens(),
        "context_lines_shown": sum(len(cf.context_lines) for c in plan.chunks for cf in c.files),
        **visible,
    }


def samples(
    repo: Path, base: str, head: str, contexts: Sequence[int], definitions: bool = False
) -> dict[int, Sample]:
    """One sample per context size, and N=0 always: the baseline the other sizes compare to."""
    blobs: Blobs = {}
    return {n: sample(repo, base, head, n, blobs, definitions) for n in sorted({0, *contexts})}


# --- what context buys: is the enclosing line visible? ----------------------------------------


def indent(text: str) -> int:
    """The width of the leading whitespace, a tab counting TAB_WIDTH columns."""
    width = 0
    for char in text:
        if char == " ":
            width += 1
        elif char == "\t":
            width += TAB_WIDTH
        else:
            break
    return width


def enclosing(lines: Sequence[str], number: int) -> int | None:
    """The 1-based number of the nearest non-blank line above line `number` that is less
    indented than it; None when there is none or the line itself is not indented."""
    own = indent(lines[number - 1])
    if own == 0:
        return None
    for above in range(number - 1, 0, -1):
        text = lines[above - 1]
        if text.strip() and indent(text) < own:
            return above
    return None


def added_runs(hunk: Hunk) -> Iterator[list[DiffLine]]:
    """The hunk's runs of added lines that follow each other in the new file (a removed line
    between two added ones does not split a run: the new file has no line there)."""
    run: list[DiffLine] = []
    for line in hunk.lines:
        if line.kind is LineKind.REMOVED:
            continue
        if line.kind is LineKind.ADDED:
            run.append(line)
        elif run:
            yield run
            run = []
    if run:
        yield run


def names_section(text: str, section: str) -> bool:
    """Whether the hunk header's section text shows the line `text` (whole, or cut by git)."""
    wanted = section.strip()
    if not wanted:
        return False
    line = text.strip()
    cut = line.encode("utf-8")[:GIT_SECTION_BYTES].decode("utf-8", "ignore").rstrip()
    return wanted in (line, cut)


def head_lines(repo: Path, head: str, path: str, blobs: Blobs) -> list[str]:
    """The new file's lines, split at "\n" only, as git numbers them."""
    key = (head, path)
    if key not in blobs:
        done = subprocess.run(["git", "cat-file", "blob", f"{head}:{path}"], cwd=repo,
                              check=True, capture_output=True)  # fmt: skip
        blobs[key] = done.stdout.decode("utf-8", "replace").split("\n")
    return blobs[key]


def shown_lines(plan: ReviewPlan) -> dict[str, dict[int, frozenset[int]]]:
    """Per path, per added line: the new-file lines the chunk that owns it shows of that file."""
    owners: dict[str, dict[int, frozenset[int]]] = {}
    for chunk in plan.chunks:
        for cf in chunk.files:
            shown = cf.added_lines | cf.context_lines
            owners.setdefault(cf.path, {}).update(dict.fromkeys(cf.added_lines, shown))
    return owners


# A Python definition line: what "the enclosing definition" of a change is (the corpus is Python).
DEFINITION = re.compile(r"[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]")
# The rendered format (chunks/render.py): a hunk header `@@ section`, an added line `12 text`.
HEADER = re.compile(r"@@(?: (.*))?$")
ADDED = re.compile(r"(\d+) ")
# The part of a definition line a header must show for it to count: git and reviewer both cut
# a long line (at 80 bytes, at 80 characters); its start names the definition.
SHOWN_CHARS = 72


def enclosing_definition(lines: Sequence[str], number: int) -> int | None:
    """The 1-based number of the nearest `def` or `class` line that encloses line `number` by
    indentation (through the `if`s and loops between), or None."""
    above = enclosing(lines, number)
    while above is not None and not DEFINITION.match(lines[above - 1]):
        above = enclosing(lines, above)
    return above


def chunk_headers(plan: ReviewPlan) -> dict[str, dict[int, list[str]]]:
    """Per path, per added line: the section text of the hunk header it stands under in the
    chunk that owns it (an owned added line is the only line shown as `12 text`)."""
    out: dict[str, dict[int, list[str]]] = {}
    for chunk in plan.chunks:
        path, section = "", ""
        for line in chunk.text.split("\n"):
            if line.startswith("=== FILE "):
                path = json.JSONDecoder().raw_decode(line[len("=== FILE ") :])[0]
            elif (m := HEADER.match(line)) is not None:
                section = m.group(1) or ""
            elif (a := ADDED.match(line)) is not None:
                out.setdefault(path, {})[int(a.group(1))] = [section]
    return out


def names_definition(text: str, sections: Sequence[str]) -> bool:
    """Whether one of the header sections shows the definition line `text`."""
    wanted = text.strip()[:SHOWN_CHARS]
    return any(wanted in section for section in sections)


def enclosing_counts(repo: Path, plan: ReviewPlan, head: str, blobs: Blobs) -> Sample:
    """Runs of added lines whose first non-blank line is indented, how many of them show their
    enclosing line to the model, and the runs at top level (not in the ratio); and the runs
    inside a `def` or `class`, how many of them show that definition line (among the lines
    shown, or in a hunk header of the chunk that owns the run)."""
    owners = shown_lines(plan)
    headers = chunk_headers(plan)
    counts = dict.fromkeys(("indented_runs", "enclosing_visible", "top_level_runs",
                            "defined_runs", "definition_visible"), 0)  # fmt: skip
    sha = plan.head or head
    for f in plan.files:
        shown_by_line = owners.get(f.path, {})
        for hunk in f.hunks:
            for run in added_runs(hunk):
                first = next((ln for ln in run if ln.text.strip()), None)
                if first is None or first.new_no is None:
                    continue  # only blank lines: nothing encloses them
                lines = head_lines(repo, sha, f.path, blobs)
                above = enclosing(lines, first.new_no)
                if above is None:
                    counts["top_level_runs"] += 1
                    continue
                counts["indented_runs"] += 1
                shown = shown_by_line.get(first.new_no, frozenset())
                if above in shown or names_section(lines[above - 1], hunk.section):
                    counts["enclosing_visible"] += 1
                definition = enclosing_definition(lines, first.new_no)
                if definition is None:
                    continue
                counts["defined_runs"] += 1
                sections = headers.get(f.path, {}).get(first.new_no, [])
                if definition in shown or names_definition(lines[definition - 1], sections):
                    counts["definition_visible"] += 1
    return counts


def add_samples(runs: Iterable[dict[int, Sample]]) -> dict[int, Sample]:
    """Per context size, the sum of every run's counts."""
    total: dict[int, Sample] = {}
    for run in runs:
        for n, counts in run.items():
            into = total.setdefault(n, dict.fromkeys(SUMMED, 0))
            for key in SUMMED:
                into[key] += counts[key]
    return total


Row = dict[str, Any]


def rows(
    label: str,
    by_context: dict[int, Sample],
    contexts: Sequence[int],
    definitions: bool = False,
    zero: int | None = None,
) -> list[Row]:
    """The table rows of one corpus entry: counts plus tokens per added line, the extra
    prompt tokens against no context at all (`zero`: that baseline's prompt tokens, by default
    this entry's own N=0), the share of indented runs whose enclosing line is visible and the
    share of runs inside a definition that show it."""
    zero = by_context[0]["prompt_tokens"] if zero is None else zero
    out = []
    for n in contexts:
        counts = by_context[n]
        prompt, added = counts["prompt_tokens"], counts["added_lines"]
        indented, defined = counts["indented_runs"], counts.get("defined_runs", 0)
        out.append({
            "label": label,
            "context_lines": n,
            "definitions": definitions,
            **counts,
            "tokens_per_added_line": round(prompt / added, 2) if added else None,
            "extra_vs_0": round(100 * (prompt / zero - 1), 1) if zero else 0.0,
            "enclosing_visible_pct": (round(100 * counts["enclosing_visible"] / indented, 1)
                                      if indented else None),
            "definition_visible_pct": (round(100 * counts["definition_visible"] / defined, 1)
                                       if defined else None),
        })  # fmt: skip
    return out


def medians(all_rows: Sequence[Row], contexts: Sequence[int]) -> list[Row]:
    """Per context size (and with or without definitions), the median over corpus entries
    ("all" left out) of the extra tokens and of the visible shares: what a typical pull
    request sees, which the sum (weighted by the largest entry) does not say."""
    out = []
    for definitions in sorted({bool(r.get("definitions")) for r in all_rows}):
        for n in contexts:
            entries = [r for r in all_rows if r["label"] != "all" and r["context_lines"] == n
                       and bool(r.get("definitions")) == definitions]  # fmt: skip
            out.append({
                "context_lines": n,
                "definitions": definitions,
                "entries": len(entries),
                "median_extra_vs_0": _median([r["extra_vs_0"] for r in entries]),
                "median_enclosing_visible_pct": _median(
                    [r["enclosing_visible_pct"] for r in entries]),
                "median_definition_visible_pct": _median(
                    [r.get("definition_visible_pct") for r in entries]),
            })  # fmt: skip
    return out


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 1) if known else None


def measure(
    repo: Path,
    base: str,
    head: str,
    label: str,
    contexts: Sequence[int] = CONTEXTS,
    definitions: bool = False,
) -> list[dict[str, Any]]:
    """Rows for one range: `base...head` of `repo` planned at each context size."""
    return rows(label, samples(repo, base, head, contexts, definitions), contexts, definitions)


# --- corpus a: releases from PyPI --------------------------------------------------------------


def sdist(cache: Path, name: str, version: str) -> Path:
    """The release's sdist, downloaded once into `cache` with pip (the only registry access)."""
    found = _cached_sdist(cache, name, version)
    if found is None:
        cache.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                "--quiet", "--dest", str(cache), f"{name}=={version}"]  # fmt: skip
        subprocess.run(argv, check=True, capture_output=True, text=True,
                       timeout=DOWNLOAD_TIMEOUT_S)  # fmt: skip
        found = _cached_sdist(cache, name, version)
    if found is None:
        raise FileNotFoundError(f"pip downloaded no sdist of {name}=={version} into {cache}")
    return found


def _cached_sdist(cache: Path, name: str, version: str) -> Path | None:
    # sdist names normalise the project name (PEP 625: lower case, `_` for `-` and `.`).
    stem = f"{name.lower().replace('-', '_').replace('.', '_')}-{version}"
    for suffix in (".tar.gz", ".zip"):
        for candidate in (cache / f"{stem}{suffix}", cache / f"{name}-{version}{suffix}"):
            if candidate.is_file():
                return candidate
    return None


def unpack(archive: Path, into: Path) -> None:
    """The archive's single top directory's contents, into `into` (which keeps its .git)."""
    with tempfile.TemporaryDirectory(dir=into.parent) as tmp:
        if archive.suffix == ".zip":
            shutil.unpack_archive(archive, tmp)
        else:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")  # no links out, no absolute paths
        [top] = list(Path(tmp).iterdir())
        shutil.copytree(top, into, dirs_exist_ok=True, symlinks=True)


def clear_tree(repo: Path) -> None:
    for entry in repo.iterdir():
        if entry.name == ".git":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def release_repo(root: Path, cache: Path, name: str, old: str, new: str) -> Path:
    """A git repository whose `base` branch holds release `old` and `head` release `new`."""
    old_sdist, new_sdist = sdist(cache, name, old), sdist(cache, name, new)
    repo = root / f"{name}-{old}-{new}"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "base")
    unpack(old_sdist, repo)
    commit_all(repo, f"{name} {old}")
    git(repo, "checkout", "-q", "-b", "head")
    clear_tree(repo)
    unpack(new_sdist, repo)
    commit_all(repo, f"{name} {new}")
    return repo


# --- corpus b: this repository's own history ---------------------------------------------------


def own_commits(repo: Path, count: int) -> list[str]:
    """The last `count` non-merge commits; RuntimeError when `repo` is no full git checkout."""
    try:
        shallow = git(repo, "rev-parse", "--is-shallow-repository").strip()
        commits = git(repo, "rev-list", "--no-merges", f"--max-count={count}", "HEAD").split()
    except (OSError, subprocess.CalledProcessError) as e:
        raise RuntimeError(f"{repo} is not a git checkout") from e
    if shallow != "false":
        raise RuntimeError(f"{repo} is a shallow clone: its history is incomplete")
    return commits


# One corpus entry's samples without the enclosing definitions, then with them.
Pair = tuple[dict[int, Sample], dict[int, Sample]]


def both(repo: Path, base: str, head: str, contexts: Sequence[int]) -> Pair:
    return (samples(repo, base, head, contexts), samples(repo, base, head, contexts, True))


def pair_rows(label: str, pair: Pair, contexts: Sequence[int]) -> list[Row]:
    """Rows without definitions, then with them, both against no context without them."""
    zero = pair[0][0]["prompt_tokens"]
    return rows(label, pair[0], contexts) + rows(label, pair[1], contexts, True, zero)


def own_history(
    repo: Path, count: int, contexts: Sequence[int], missing: dict[str, str]
) -> tuple[list[dict[str, Any]], Pair | None, dict[str, str] | None]:
    """Each of the last commits against its first parent, summed into one row set."""
    label = f"reviewer: last {count} commits"
    try:
        commits = own_commits(repo, count)
    except RuntimeError as e:
        missing["context:reviewer"] = str(e)
        return [], None, None
    runs: list[Pair] = []
    for commit in commits:
        try:
            runs.append(both(repo, f"{commit}~1", commit, contexts))
        except ReviewerError as e:  # a root commit has no parent; anything else is reported
            missing[f"context:reviewer:{commit[:10]}"] = f"{type(e).__name__}: {e}"
    if not runs:
        return [], None, None
    total = (add_samples(r[0] for r in runs), add_samples(r[1] for r in runs))
    corpus = {"label": label, "base_version": f"{commits[-1][:10]}~1",
              "head_version": commits[0][:10],
              "source": f"this repository's git history: {len(runs)} non-merge commits, "
                        "each against its first parent"}  # fmt: skip
    return pair_rows(label, total, contexts), total, corpus


# --- the part ----------------------------------------------------------------------------------


def _release(
    root: Path, cache: Path, pair: tuple[str, str, str], contexts: Sequence[int]
) -> tuple[list[dict[str, Any]], Pair, dict[str, str]]:
    name, old, new = pair
    repo = release_repo(root, cache, name, old, new)
    label = f"{name} {old} -> {new}"
    by_context = both(repo, "base", "head", contexts)
    corpus = {"label": label, "base_version": old, "head_version": new, "source": "PyPI sdist"}
    return pair_rows(label, by_context, contexts), by_context, corpus


def run_part(
    root: Path, cache: Path, quick: bool, contexts: Sequence[int] = CONTEXTS
) -> dict[str, Any]:
    """Every corpus entry's rows, then "all" (their sums). Entries that cannot be built are
    listed under "missing" (the caller merges them into results["missing"])."""
    root.mkdir(parents=True, exist_ok=True)
    missing: dict[str, str] = {}
    all_rows: list[dict[str, Any]] = []
    totals: list[Pair] = []
    corpus: list[dict[str, str]] = []
    for pair in QUICK_PAIRS if quick else PYPI_PAIRS:
        try:
            entry_rows, by_context, entry = _release(root, cache, pair, contexts)
        except (OSError, ValueError, tarfile.TarError, subprocess.SubprocessError,
                ReviewerError) as e:  # fmt: skip
            missing[f"context:{pair[0]}"] = _why(e)
            print(f"  context: {pair[0]} skipped: {missing[f'context:{pair[0]}']}", flush=True)
            continue
        _progress(entry_rows)
        all_rows += entry_rows
        totals.append(by_context)
        corpus.append(entry)
    count = QUICK_OWN_COMMITS if quick else OWN_COMMITS
    own_rows, own_total, own_entry = own_history(REPO_ROOT, count, contexts, missing)
    if own_total is not None and own_entry is not None:
        _progress(own_rows)
        all_rows += own_rows
        totals.append(own_total)
        corpus.append(own_entry)
    if totals:
        summed = (add_samples(t[0] for t in totals), add_samples(t[1] for t in totals))
        all_rows += pair_rows("all", summed, contexts)
    return {"rows": all_rows, "corpus": corpus, "missing": missing,
            "medians": medians(all_rows, contexts)}  # fmt: skip


def _why(e: BaseException) -> str:
    detail = getattr(e, "stderr", None) or str(e)
    return f"{type(e).__name__}: {str(detail).strip()[-300:]}"


def _progress(entry_rows: list[dict[str, Any]]) -> None:
    def key(r: Row) -> str:
        return f"{r['context_lines']}{'+d' if r.get('definitions') else ''}"

    extra = ", ".join(f"{key(r)}: {r['extra_vs_0']:+}%" for r in entry_rows)
    seen = ", ".join(f"{key(r)}: {r['definition_visible_pct']}%" for r in entry_rows)
    print(f"  context: {entry_rows[0]['label']}: extra tokens vs 0 context {extra}; "
          f"enclosing definition visible {seen}", flush=True)  # fmt: skip
