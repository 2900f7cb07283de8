"""`reviewer doctor`: the preflight's flags, into ModelSettings (and the repository and config
path), then the checks."""

from __future__ import annotations

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
    model_settings,
)
from reviewer.settings.slices import DOCTOR_RETRIES, DOCTOR_TIMEOUT, DiffSettings, ModelSettings

# The defaults `reviewer run` uses, so doctor checks the same setup.
_DIFF, _MODEL = DiffSettings(), ModelSettings()


def doctor(
    repo: RepoOption = _DIFF.repo,
    config: ConfigOption = None,
    backend: BackendOption = _MODEL.backend,
    model: ModelOption = _MODEL.model,
    ollama_url: OllamaUrlOption = None,
    base_url: BaseUrlOption = None,
    model_digest: ModelDigestOption = _MODEL.model_digest,
    allow_remote_model: AllowRemoteOption = _MODEL.allow_remote_model,
    num_ctx: NumCtxOption = _MODEL.num_ctx,
    timeout: TimeoutOption = DOCTOR_TIMEOUT,
    debug: DebugOption = False,
) -> None:
    """Check the server, model, egress policy, config, git and credentials before a review.

    Exit 0 when a review can run, 3 otherwise."""
    with error_handler(debug):
        from reviewer.review.doctor import doctor as check_readiness

        settings = model_settings(
            backend=backend,
            model=model,
            ollama_url=ollama_url,
            base_url=base_url,
            model_digest=model_digest,
            allow_remote_model=allow_remote_model,
            num_ctx=num_ctx,
            timeout=timeout,
            retries=DOCTOR_RETRIES,
        )
        code = check_readiness(settings, repo=repo, config_path=config)
    raise typer.Exit(int(code))
