"""`reviewer run`: the review's flags and environment, into one settings slice per stage (a
ReviewRequest), then the pipeline. Every default is the slice field's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.boundary import error_handler
from reviewer.cli.options import (
    MODEL_FLAGS,
    ConfigOption,
    DebugOption,
    MaxFindingsOption,
    ModelOptions,
    RepoOption,
    choice,
    choices,
    glob_list,
    model_options,
    whole,
)
from reviewer.models import Severity
from reviewer.settings.config import (
    MAX_CONTEXT_LINES,
    FilterMode,
    env_flag,
)
from reviewer.settings.slices import (
    DiffSettings,
    OutputSettings,
    PlanSettings,
    ReviewRequest,
    ReviewSettings,
)

# The defaults every flag shows and falls back to: the slices' own field defaults.
_DIFF, _PLAN = DiffSettings(), PlanSettings()
_REVIEW, _OUTPUT = ReviewSettings(), OutputSettings()


@model_options("num_predict", "retries", "lock_timeout", "concurrency")
def run(
    repo: RepoOption = _DIFF.repo,
    base: Annotated[
        str | None,
        typer.Option(
            metavar="REF",
            help="Base ref. Default: the pull request's base in CI, else origin's HEAD.",
        ),
    ] = _DIFF.base,
    head: Annotated[str, typer.Option(metavar="REF", help="Head ref.")] = _DIFF.head,
    staged: Annotated[
        bool, typer.Option("--staged", help="Review the index against HEAD.")
    ] = _DIFF.staged,
    diff_file: Annotated[
        str | None,
        typer.Option(
            "--diff-file", metavar="PATH", help="Read a unified diff from PATH, or - for stdin."
        ),
    ] = _DIFF.diff_file,
    config: ConfigOption = _PLAN.config_path,
    include: Annotated[
        list[str] | None,
        typer.Option(
            "--include",
            metavar="GLOB[,GLOB...]",
            help="Only review paths matching one of these globs. Repeatable.",
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            metavar="GLOB[,GLOB...]",
            help="Skip paths matching any of these globs. Repeatable.",
        ),
    ] = None,
    max_file_lines: Annotated[
        int | None,
        typer.Option(
            parser=whole(1), metavar="N", help="Skip files with more changed lines (too_large)."
        ),
    ] = _PLAN.max_file_lines,
    accept_unreviewed: Annotated[
        list[str] | None,
        typer.Option(
            "--accept-unreviewed",
            metavar="REASON",
            help="Count files left out for REASON (vendored, generated, binary...) as left out "
            "by policy, not unreviewed. Repeatable.",
        ),
    ] = None,
    no_description: Annotated[
        bool,
        typer.Option(
            "--no-description",
            help="Do not send the change's intent (the pull request's title and description, "
            "the commit subjects) to the model.",
        ),
    ] = _PLAN.no_description,
    context_lines: Annotated[
        int,
        typer.Option(
            parser=whole(0, MAX_CONTEXT_LINES),
            metavar="N",
            help=f"Unchanged lines shown around each change, 0 to {MAX_CONTEXT_LINES} (git range "
            "and --staged; a patch file keeps its own).",
        ),
    ] = _DIFF.context_lines,
    definitions: Annotated[
        bool,
        typer.Option(
            "--definitions/--no-definitions",
            help="Name the enclosing definitions (class, def, func...) of each hunk and of each "
            "part of a split hunk in its header, read from the files at head (base for "
            "removals; git range and --staged).",
        ),
    ] = _DIFF.definitions,
    model_flags: ModelOptions = MODEL_FLAGS,
    filter_mode: Annotated[
        FilterMode,
        typer.Option(
            metavar="MODE",
            parser=choice(FilterMode),
            help=f"Lines a finding may point at: {choices(FilterMode)}.",
        ),
    ] = _REVIEW.filter_mode,
    max_findings: MaxFindingsOption = _REVIEW.max_findings,
    max_chunks: Annotated[
        int,
        typer.Option(
            parser=whole(1),
            envvar="REVIEWER_MAX_CHUNKS",
            metavar="N",
            help="Most chunks one run may send; over it the run fails before any model call.",
        ),
    ] = _REVIEW.max_chunks,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="PATH", help="Write the findings document here."
        ),
    ] = _OUTPUT.output,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Print as text, json, sarif, rdjson, rdjsonl, markdown, github, codequality; with "
            "--dry-run, text or json (it prints the plan). Checked before anything else.",
        ),
    ] = _OUTPUT.format,
    fail_on: Annotated[
        Severity | None,
        typer.Option(
            metavar="LEVEL",
            parser=choice(Severity),
            help=f"Exit 1 when findings at or above LEVEL exist: {choices(Severity)}.",
        ),
    ] = _OUTPUT.fail_on,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent.")
    ] = _OUTPUT.dry_run,
    show_prompts: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Write each request to this directory, as posted: before it is sent, or "
            "instead of sending it with --dry-run."
        ),
    ] = _OUTPUT.show_prompts,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="REVIEWER_CACHE_DIR", metavar="DIR", help="Response cache directory."
        ),
    ] = _REVIEW.cache_dir,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not use the cache.")
    ] = _REVIEW.no_cache,
    debug: DebugOption = False,
) -> None:
    """Review a diff with a local model and write the findings document."""
    from reviewer.review.interrupt import interrupts_raise
    from reviewer.security import scrub_environment

    # First: no credential survives in this process or reaches a child.
    removed = scrub_environment(os.environ)
    with error_handler(debug), interrupts_raise():
        if debug and removed:
            sys.stderr.write(f"debug: removed from the environment: {', '.join(removed)}\n")
        request = ReviewRequest(
            diff=DiffSettings(
                repo=repo,
                base=base,
                head=head,
                staged=staged,
                diff_file=diff_file,
                context_lines=context_lines,
                definitions=definitions,
            ),
            plan=PlanSettings(
                config_path=config,
                include=glob_list(include),
                exclude=glob_list(exclude),
                max_file_lines=max_file_lines,
                accept_unreviewed=tuple(accept_unreviewed or ()),
                no_description=no_description,
            ),
            model=model_flags.settings(),
            review=ReviewSettings(
                filter_mode=filter_mode,
                max_findings=max_findings,
                max_chunks=max_chunks,
                optional=env_flag(os.environ.get("LOCAL_LLM_OPTIONAL")),
                cache_dir=cache_dir,
                no_cache=no_cache,
            ),
            output=OutputSettings(
                output=output,
                format=format,
                fail_on=fail_on,
                dry_run=dry_run,
                show_prompts=show_prompts,
            ),
        )
        from reviewer.review.pipeline import review_and_report

        code = review_and_report(request)
    raise typer.Exit(int(code))
