"""`reviewer run`: the review's flags and environment, into RunSettings, then the pipeline."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.boundary import error_handler
from reviewer.cli.options import (
    AllowRemoteOption,
    BackendOption,
    BaseUrlOption,
    ConfigOption,
    DebugOption,
    ModelDigestOption,
    ModelOption,
    NumCtxOption,
    OllamaUrlOption,
    RepoOption,
    TimeoutOption,
    choice,
    choices,
    glob_list,
    model_url,
    seconds,
    whole,
)
from reviewer.models import Severity
from reviewer.settings.config import (
    DEFAULT_CONTEXT_LINES,
    DEFAULT_MAX_CHUNKS,
    DEFAULT_MODEL,
    DEFAULT_NUM_CTX,
    MAX_CONTEXT_LINES,
    Backend,
    FilterMode,
    RunSettings,
    env_flag,
)


def run(
    repo: RepoOption = Path("."),
    base: Annotated[
        str | None,
        typer.Option(
            metavar="REF",
            help="Base ref. Default: the pull request's base in CI, else origin's HEAD.",
        ),
    ] = None,
    head: Annotated[str, typer.Option(metavar="REF", help="Head ref.")] = "HEAD",
    staged: Annotated[
        bool, typer.Option("--staged", help="Review the index against HEAD.")
    ] = False,
    diff_file: Annotated[
        str | None,
        typer.Option(
            "--diff-file", metavar="PATH", help="Read a unified diff from PATH, or - for stdin."
        ),
    ] = None,
    config: ConfigOption = None,
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
    ] = None,
    accept_unreviewed: Annotated[
        list[str] | None,
        typer.Option(
            "--accept-unreviewed",
            metavar="REASON",
            help="Count files left out for REASON (vendored, generated, binary...) as left out "
            "by policy, not unreviewed. Repeatable.",
        ),
    ] = None,
    context_lines: Annotated[
        int,
        typer.Option(
            parser=whole(0, MAX_CONTEXT_LINES),
            metavar="N",
            help=f"Unchanged lines shown around each change, 0 to {MAX_CONTEXT_LINES} (git range "
            "and --staged; a patch file keeps its own).",
        ),
    ] = DEFAULT_CONTEXT_LINES,
    backend: BackendOption = Backend.OLLAMA,
    model: ModelOption = DEFAULT_MODEL,
    ollama_url: OllamaUrlOption = None,
    base_url: BaseUrlOption = None,
    model_digest: ModelDigestOption = None,
    allow_remote_model: AllowRemoteOption = False,
    num_ctx: NumCtxOption = DEFAULT_NUM_CTX,
    num_predict: Annotated[
        int, typer.Option(parser=whole(16), metavar="TOKENS", help="Cap on answer tokens, 16+.")
    ] = 1024,
    timeout: TimeoutOption = 600.0,
    retries: Annotated[
        int,
        typer.Option(parser=whole(0, 10), metavar="N", help="Retries after a failure, 0 to 10."),
    ] = 3,
    lock_timeout: Annotated[
        float | None,
        typer.Option(
            parser=seconds(0),
            envvar="REVIEWER_LOCK_TIMEOUT",
            metavar="SECONDS",
            help="Most seconds to wait for another run's turn at the model server "
            "(default: 3 x --timeout).",
        ),
    ] = None,
    concurrency: Annotated[
        int,
        typer.Option(
            parser=whole(1), metavar="N", help="Requests in flight (OpenAI backend only)."
        ),
    ] = 1,
    filter_mode: Annotated[
        FilterMode,
        typer.Option(
            metavar="MODE",
            parser=choice(FilterMode),
            help=f"Lines a finding may point at: {choices(FilterMode)}.",
        ),
    ] = FilterMode.ADDED,
    max_findings: Annotated[
        int,
        typer.Option(
            parser=whole(1, 20),
            metavar="N",
            help="Most findings the model may report per chunk, 1 to 20.",
        ),
    ] = 10,
    max_chunks: Annotated[
        int,
        typer.Option(
            parser=whole(1),
            envvar="REVIEWER_MAX_CHUNKS",
            metavar="N",
            help="Most chunks one run may send; over it the run fails before any model call.",
        ),
    ] = DEFAULT_MAX_CHUNKS,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="PATH", help="Write the findings document here."
        ),
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Print as text, json, sarif, rdjson, rdjsonl, markdown, github.",
        ),
    ] = None,
    fail_on: Annotated[
        Severity | None,
        typer.Option(
            metavar="LEVEL",
            parser=choice(Severity),
            help=f"Exit 1 when findings at or above LEVEL exist: {choices(Severity)}.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent.")] = False,
    show_prompts: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="With --dry-run: write each request to this directory."
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            envvar="REVIEWER_CACHE_DIR", metavar="DIR", help="Response cache directory."
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the cache.")] = False,
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
        url = model_url(backend, ollama_url, base_url)
        settings = RunSettings(
            repo=repo,
            base=base,
            head=head,
            staged=staged,
            diff_file=diff_file,
            config_path=config,
            include=glob_list(include),
            exclude=glob_list(exclude),
            max_file_lines=max_file_lines,
            accept_unreviewed=tuple(accept_unreviewed or ()),
            context_lines=context_lines,
            backend=backend,
            model=model,
            base_url=url,
            model_digest=model_digest or None,
            allow_remote_model=allow_remote_model,
            num_ctx=num_ctx,
            num_predict=num_predict,
            timeout=timeout,
            retries=retries,
            lock_timeout=lock_timeout,
            concurrency=concurrency,
            filter_mode=filter_mode,
            max_findings=max_findings,
            max_chunks=max_chunks,
            output=output,
            format=format,
            fail_on=fail_on,
            optional=env_flag(os.environ.get("LOCAL_LLM_OPTIONAL")),
            dry_run=dry_run,
            show_prompts=show_prompts,
            cache_dir=cache_dir,
            no_cache=no_cache,
            debug=debug,
        )
        from reviewer.review.pipeline import run_command

        code = run_command(settings)
    raise typer.Exit(int(code))
