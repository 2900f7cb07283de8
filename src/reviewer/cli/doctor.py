"""`reviewer doctor`: the preflight's flags, into ModelSettings (and the repository and config
path), then the checks."""

from __future__ import annotations

import typer

from reviewer.cli.boundary import error_handler
from reviewer.cli.options import (
    MODEL_FLAGS,
    ConfigOption,
    DebugOption,
    ModelOptions,
    RepoOption,
    model_options,
)
from reviewer.settings.slices import DOCTOR_RETRIES, DOCTOR_TIMEOUT, DiffSettings

# The defaults `reviewer run` uses, so doctor checks the same setup.
_DIFF = DiffSettings()


@model_options(timeout=DOCTOR_TIMEOUT)
def doctor(
    repo: RepoOption = _DIFF.repo,
    config: ConfigOption = None,
    model_flags: ModelOptions = MODEL_FLAGS,
    debug: DebugOption = False,
) -> None:
    """Check the server, model, egress policy, config, git and credentials before a review.

    Exit 0 when a review can run, 3 otherwise."""
    with error_handler(debug):
        from reviewer.review.doctor import doctor as check_readiness

        settings = model_flags.settings(retries=DOCTOR_RETRIES)
        code = check_readiness(settings, repo=repo, config_path=config)
    raise typer.Exit(int(code))
