"""Everything decided before the model: the diff source, parsing, the repository config (from
the base revision for a git range), filters and chunks, as one ReviewPlan."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from reviewer.chunks.chunking import build_chunks, chunk_budget
from reviewer.chunks.intent import MAX_INTENT_TOKENS
from reviewer.chunks.prompt import exact_estimate
from reviewer.diff.definitions import read_definitions
from reviewer.diff.filters import Evidence, filter_files
from reviewer.diff.interface import RawDiff
from reviewer.diff.parse import parse_raw
from reviewer.diff.select import select_source
from reviewer.errors import BudgetError, UsageError, first_problem
from reviewer.models import FileDiff, PromptContext, ReviewPlan, Rule, SkippedFile, SkipReason
from reviewer.plan.baseline import read_baseline
from reviewer.plan.intent import gather_intent
from reviewer.plan.rules import read_rules
from reviewer.settings.config import (
    DEFAULT_CONTEXT_LINES,
    DEFAULT_NUM_CTX,
    DEFAULT_NUM_PREDICT,
    SECONDS_PER_CHUNK,
    RepoConfig,
    parse_repo_config,
)
from reviewer.settings.slices import DiffSettings, PlanSettings

CONFIG_FILES = (".reviewer.toml", "pyproject.toml")


class ConfigReader(Protocol):
    """Where config files are read from: a diff source (the base revision for a git range), or
    the work tree for `reviewer doctor`."""

    def config_text(self, name: str) -> str | None:
        """The text of the config file `name`, or None when there is none."""
        ...

    def explicit_config(self, path: Path) -> str:
        """The text of the --config file; ConfigError when it cannot be read."""
        ...


def find_repo_config(
    config_path: Path | None, reader: ConfigReader
) -> tuple[str | None, RepoConfig]:
    """The config file in use and its values: --config PATH if given, else the first of
    CONFIG_FILES the reader has; (None, defaults) when there is none. For a git range both come
    from the base revision (a --config path outside the repository from disk)."""
    if config_path is not None:
        return str(config_path), parse_repo_config(
            reader.explicit_config(config_path), str(config_path)
        )
    for name in CONFIG_FILES:
        found = reader.config_text(name)
        if found is not None:
            return name, parse_repo_config(found, name)
    return None, RepoConfig()


def effective_config(settings: PlanSettings, reader: ConfigReader) -> RepoConfig:
    """The config file's values, with the flags' globs added and --max-file-lines on top."""
    _, config = find_repo_config(settings.config_path, reader)
    return merged_config(config, settings)


def merged_config(config: RepoConfig, settings: PlanSettings) -> RepoConfig:
    """`config` with the flags' globs added and --max-file-lines on top."""
    try:
        return _merged(config, settings)
    except ValidationError as e:
        raise UsageError(f"--accept-unreviewed: {first_problem(e)}") from None


def _merged(config: RepoConfig, settings: PlanSettings) -> RepoConfig:
    return RepoConfig.model_validate(
        {
            **config.model_dump(),
            "include": (*config.include, *settings.include),
            "exclude": (*config.exclude, *settings.exclude),
            "max_file_lines": settings.max_file_lines or config.max_file_lines,
            "accept_unreviewed": (*config.accept_unreviewed, *settings.accept_unreviewed),
        }
    )


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Planning builds a few small objects per diff line (hundreds of thousands on a big diff)
    and no reference cycles; the cyclic garbage collector would walk all of them again every
    few thousand allocations, a third of the parse time at 200,000 lines (docs/performance.md).
    Reference counting still frees everything; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_plan(
    diff: DiffSettings,
    settings: PlanSettings | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    num_ctx: int = DEFAULT_NUM_CTX,
    num_predict: int = DEFAULT_NUM_PREDICT,
) -> ReviewPlan:
    """Read, parse, filter and chunk the diff the settings name, each chunk within the context
    the model settings leave for it (`num_ctx` less the answer's `num_predict` and the prompt).
    Nothing is sent anywhere."""
    chunk_budget(num_ctx, num_predict)  # fail fast on a bad budget, before git is asked
    with cycle_collector_paused():
        return _build_plan(
            diff,
            settings if settings is not None else PlanSettings(),
            os.environ if environ is None else environ,
            (num_ctx, num_predict),
        )


def _build_plan(
    diff: DiffSettings,
    settings: PlanSettings,
    environ: Mapping[str, str],
    sizes: tuple[int, int],
) -> ReviewPlan:
    source = select_source(diff, environ)
    raw = source.read()
    name, found = find_repo_config(settings.config_path, source)
    config = merged_config(found, settings)
    context = prompt_context(diff, settings, environ, raw, read_rules(found, name, source))
    # The chunks make room for the rest of the prompt: the rules, the intent, the framing;
    # whether the run fits never depends on how long the author's text is.
    reserve = intent_reserve(settings, raw.base, raw.head, context)
    budget = chunk_budget(*sizes, context, reserve=reserve)
    # Files over max_file_lines are skipped anyway: the parser counts their lines, no more.
    files = parse_raw(raw, config.max_file_lines)
    evidence = Evidence(read_base=source.base_heads, binary_at_base=raw.binary_at_base)
    kept, skipped = filter_files(files, config, source.file_heads, evidence)
    definitions = read_definitions(kept, source) if diff.definitions else None
    result = build_chunks(kept, budget, diff.context_lines, definitions)
    too_large = set(result.too_large)
    accepted = SkipReason.TOO_LARGE.value in config.accept_unreviewed
    skipped += too_large_entries(kept, too_large, policy=accepted)
    return ReviewPlan(
        base=raw.base,
        head=raw.head,
        files=tuple(sorted((f for f in kept if f.path not in too_large), key=lambda f: f.path)),
        skipped=tuple(sorted(skipped, key=lambda s: (s.path, s.reason))),
        chunks=result.chunks,
        accepted=read_baseline(config, source),
        context=context,
    )


def too_large_entries(
    files: Sequence[FileDiff], too_large: set[str], *, policy: bool
) -> tuple[SkippedFile, ...]:
    """The skipped entries of the files the chunker could not fit even with long lines cut."""
    return tuple(
        SkippedFile(
            path=f.path,
            reason=SkipReason.TOO_LARGE.value,
            policy=policy,
            added=f.added,
            removed=f.removed,
        )
        for f in files
        if f.path in too_large
    )


def intent_reserve(
    settings: PlanSettings, base: str | None, head: str | None, context: PromptContext
) -> int:
    """Room the budget check keeps beside this intent, up to the longest one could be."""
    if settings.no_description or base is None or head is None:
        return 0
    return max(0, MAX_INTENT_TOKENS - exact_estimate(context.intent))


def prompt_context(
    diff: DiffSettings,
    settings: PlanSettings,
    environ: Mapping[str, str],
    raw: RawDiff,
    rules: tuple[Rule, ...],
) -> PromptContext:
    """What the model is told beside the diff: the repository's rules and, for a git range
    unless --no-description, the change's intent."""
    intent = ""
    if not settings.no_description and raw.base is not None and raw.head is not None:
        intent = gather_intent(diff.repo, raw.base, raw.head, environ)
    return PromptContext(intent=intent, rules=rules)


def rescaled(
    plan: ReviewPlan,
    scale: float,
    settings: PlanSettings,
    sizes: tuple[int, int],
    context_lines: int = DEFAULT_CONTEXT_LINES,
) -> ReviewPlan:
    """The plan's files cut again into chunks for the model's calibration (`scale`, real
    tokens per estimated token: chunks/calibration.py), within the same context. Done after
    every local check and the --max-chunks check of the raw plan, so that no request reaches
    the server for a run refused anyway. A file that no longer fits (a scale above 1) is left
    out unreviewed, never as accepted by policy."""
    if scale == 1.0 or not plan.chunks:
        return plan
    reserve = intent_reserve(settings, plan.base, plan.head, plan.context)
    budget = chunk_budget(*sizes, plan.context, reserve=reserve, scale=scale)
    result = build_chunks(plan.files, budget, context_lines)
    too_large = set(result.too_large)
    skipped = plan.skipped + too_large_entries(plan.files, too_large, policy=False)
    return plan.model_copy(
        update={
            "files": tuple(f for f in plan.files if f.path not in too_large),
            "skipped": tuple(sorted(skipped, key=lambda s: (s.path, s.reason))),
            "chunks": result.chunks,
            "token_scale": scale,
        }
    )


def check_chunk_budget(plan: ReviewPlan, max_chunks: int) -> None:
    """Fail closed before any model call when the plan has more chunks than --max-chunks:
    a run that would take hours is refused at once, with what it would have cost. Never
    downgraded by LOCAL_LLM_OPTIONAL: the pull request's author decides how large it is."""
    chunks = len(plan.chunks)
    if chunks <= max_chunks:
        return
    minutes = chunks * SECONDS_PER_CHUNK / 60
    took = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    raise BudgetError(
        f"the diff makes {chunks} chunks, over --max-chunks {max_chunks}: reviewing it "
        f"would take {chunks} to {2 * chunks} model calls, about {took} at "
        f"{SECONDS_PER_CHUNK} s a chunk; nothing was sent",
        "raise --max-chunks (REVIEWER_MAX_CHUNKS) if the job has the time, or review less "
        "(--include/--exclude, a smaller range)",
    )
