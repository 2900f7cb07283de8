"""The command line: parses options, builds the stages, maps errors to exit codes. No logic."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from reviewer import __version__
from reviewer.config import Backend, FilterMode, RunSettings, env_flag
from reviewer.errors import ExitCode, ReviewerError
from reviewer.models import Severity

app = typer.Typer(
    name="reviewer",
    help="A code-review agent for CI that sends your diff only to a local model server.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_error(message: str, hint: str | None) -> None:
    from reviewer.security import neutralise_terminal

    sys.stderr.write(f"reviewer: error: {neutralise_terminal(message)}\n")
    if hint:
        sys.stderr.write(f"hint: {neutralise_terminal(hint)}\n")


@contextmanager
def error_handler(debug: bool) -> Iterator[None]:
    """The one place that turns errors into exit codes. A ReviewerError is a one-line message
    (and hint); anything else is a bug: one line plus a request to rerun with --debug."""
    try:
        yield
    except ReviewerError as e:
        if debug:
            import traceback

            traceback.print_exc()
        _print_error(e.message, e.hint)
        raise typer.Exit(int(e.exit_code)) from None
    except KeyboardInterrupt:
        sys.stderr.write("reviewer: interrupted\n")
        raise typer.Exit(130) from None
    except (typer.Exit, typer.Abort):
        raise
    except Exception as e:  # noqa: BLE001 - the last line of defence against a traceback
        if debug:
            raise
        _print_error(
            f"internal error: {type(e).__name__}: {e}",
            "rerun with --debug for a traceback and report it",
        )
        raise typer.Exit(int(ExitCode.USAGE)) from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reviewer {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """reviewer: local-model code review for CI."""


@app.command()
def run(
    repo: Annotated[Path, typer.Option(help="The git repository.")] = Path("."),
    base: Annotated[
        str | None,
        typer.Option(help="Base ref. Default: the pull request's base in CI, else origin's HEAD."),
    ] = None,
    head: Annotated[str, typer.Option(help="Head ref.")] = "HEAD",
    staged: Annotated[bool, typer.Option("--staged", help="Review the index against HEAD.")] = False,
    diff_file: Annotated[
        str | None, typer.Option("--diff-file", help="Read a unified diff from PATH, or - for stdin.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (default: .reviewer.toml).")
    ] = None,
    include: Annotated[
        list[str] | None, typer.Option("--include", help="Only review paths matching this glob.")
    ] = None,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Skip paths matching this glob.")
    ] = None,
    max_file_lines: Annotated[
        int | None, typer.Option(min=1, help="Skip files with more changed lines (too_large).")
    ] = None,
    backend: Annotated[
        Backend, typer.Option(envvar="REVIEWER_BACKEND", help="Model server API.")
    ] = Backend.OLLAMA,
    model: Annotated[
        str, typer.Option(envvar="OLLAMA_MODEL", help="Model name.")
    ] = "qwen2.5-coder:7b",
    ollama_url: Annotated[
        str | None, typer.Option(envvar="OLLAMA_BASE_URL", help="Ollama server URL.")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(envvar="REVIEWER_BASE_URL", help="OpenAI-compatible server URL."),
    ] = None,
    model_digest: Annotated[
        str | None,
        typer.Option(envvar="OLLAMA_MODEL_DIGEST", help="Refuse a model with another digest."),
    ] = None,
    allow_remote_model: Annotated[
        bool,
        typer.Option(
            "--allow-remote-model",
            envvar="REVIEWER_ALLOW_REMOTE_MODEL",
            help="Allow a model URL outside loopback and private networks.",
        ),
    ] = False,
    num_ctx: Annotated[int, typer.Option(min=512, help="Context size to ask for (tokens).")] = 8192,
    num_predict: Annotated[int, typer.Option(min=16, help="Cap on answer tokens.")] = 1024,
    timeout: Annotated[float, typer.Option(min=1, help="Per-request timeout, seconds.")] = 600.0,
    retries: Annotated[int, typer.Option(min=0, max=10, help="Retries after a failure.")] = 3,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Requests in flight (OpenAI backend only).")
    ] = 1,
    filter_mode: Annotated[
        FilterMode, typer.Option(help="Lines a finding may point at.")
    ] = FilterMode.ADDED,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the findings document here.")
    ] = None,
    format: Annotated[
        str | None,
        typer.Option(
            "--format", "-f", help="Print as text, json, sarif, rdjson, rdjsonl, markdown, github."
        ),
    ] = None,
    fail_on: Annotated[
        Severity | None, typer.Option(help="Exit 1 when findings at or above this exist.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be sent.")] = False,
    show_prompts: Annotated[
        Path | None, typer.Option(help="With --dry-run: write each request to this directory.")
    ] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(envvar="REVIEWER_CACHE_DIR", help="Response cache directory.")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the cache.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Tracebacks and diagnostics.")] = False,
) -> None:
    """Review a diff with a local model and write the findings document."""
    from reviewer.security import scrub_environment

    # First: no credential survives in this process or reaches a child.
    removed = scrub_environment(os.environ)
    with error_handler(debug):
        if debug and removed:
            sys.stderr.write(f"debug: removed from the environment: {', '.join(removed)}\n")
        url = base_url if backend is Backend.OPENAI else ollama_url
        if url is None:
            url = base_url or ollama_url or "http://localhost:11434"
        settings = RunSettings(
            repo=repo,
            base=base,
            head=head,
            staged=staged,
            diff_file=diff_file,
            config_path=config,
            include=tuple(include or ()),
            exclude=tuple(exclude or ()),
            max_file_lines=max_file_lines,
            backend=backend,
            model=model,
            base_url=url,
            model_digest=model_digest or None,
            allow_remote_model=allow_remote_model,
            num_ctx=num_ctx,
            num_predict=num_predict,
            timeout=timeout,
            retries=retries,
            concurrency=concurrency,
            filter_mode=filter_mode,
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
        from reviewer.pipeline import run_command

        code = run_command(settings)
    raise typer.Exit(int(code))


from reviewer.document import schema  # noqa: E402 - registered after the app exists
from reviewer.post.command import post, report  # noqa: E402 - registered after the app exists

app.command("post")(post)
app.command("report")(report)
app.command("schema")(schema)


def main() -> NoReturn:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as e:
        raise SystemExit(e.code) from None
    sys.exit(0)
