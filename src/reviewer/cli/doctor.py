"""`reviewer doctor`: the preflight's flags, into RunSettings, then the checks."""

from __future__ import annotations

from pathlib import Path

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
    model_url,
)
from reviewer.settings.config import DEFAULT_MODEL, DEFAULT_NUM_CTX, Backend, RunSettings


def doctor(
    repo: RepoOption = Path("."),
    config: ConfigOption = None,
    backend: BackendOption = Backend.OLLAMA,
    model: ModelOption = DEFAULT_MODEL,
    ollama_url: OllamaUrlOption = None,
    base_url: BaseUrlOption = None,
    model_digest: ModelDigestOption = None,
    allow_remote_model: AllowRemoteOption = False,
    num_ctx: NumCtxOption = DEFAULT_NUM_CTX,
    timeout: TimeoutOption = 120.0,
    debug: DebugOption = False,
) -> None:
    """Check the server, model, egress policy, config, git and credentials before a review.

    Exit 0 when a review can run, 3 otherwise."""
    with error_handler(debug):
        from reviewer.review.doctor import doctor as run_doctor

        settings = RunSettings(
            repo=repo,
            config_path=config,
            backend=backend,
            model=model,
            base_url=model_url(backend, ollama_url, base_url),
            model_digest=model_digest or None,
            allow_remote_model=allow_remote_model,
            num_ctx=num_ctx,
            timeout=timeout,
            retries=0,
            debug=debug,
        )
        code = run_doctor(settings)
    raise typer.Exit(int(code))
