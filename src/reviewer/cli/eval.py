"""`reviewer eval`: the model flags as `run` reads them, the corpus and the report's path, then
the evaluation (reviewer.eval.harness)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from reviewer.cli.boundary import error_handler
from reviewer.cli.options import (
    MODEL_FLAGS,
    DebugOption,
    MaxFindingsOption,
    ModelOptions,
    model_options,
)
from reviewer.settings.slices import ModelSettings, ReviewSettings

_REVIEW = ReviewSettings()
REPORT = "evaluation report"  # what the report's writer names in its errors


@model_options("num_predict", "retries")
def eval_command(
    corpus: Annotated[
        Path | None,
        typer.Option(
            "--corpus",
            metavar="DIR",
            help="A corpus directory (docs/evaluation.md). Default: the corpus shipped with "
            "reviewer.",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="PATH", help="Write the JSON report here."),
    ] = None,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache/--no-cache",
            help="Reuse cached answers (off by default: an evaluation measures the model).",
        ),
    ] = False,
    model_flags: ModelOptions = MODEL_FLAGS,
    max_findings: MaxFindingsOption = _REVIEW.max_findings,
    debug: DebugOption = False,
) -> None:
    """Measure how well the model reviews: the real review of every case of a labelled corpus,
    its findings matched to the labels by file and line."""
    from reviewer.review.interrupt import interrupts_raise
    from reviewer.security import scrub_environment

    scrub_environment(os.environ)  # as run: no credential in this process or its children
    with error_handler(debug), interrupts_raise():
        settings = model_flags.settings()
        review = ReviewSettings(max_findings=max_findings, no_cache=not cache)
        _evaluate(settings, review, corpus, output)


def _evaluate(
    model: ModelSettings, review: ReviewSettings, corpus: Path | None, output: Path | None
) -> None:
    from reviewer.backends import check_model_arguments
    from reviewer.eval.corpus import load_corpus, shipped_corpus
    from reviewer.eval.harness import evaluate
    from reviewer.eval.table import print_report
    from reviewer.findings.document import check_writable, write_json
    check_model_arguments(model)  # a malformed flag is refused before the corpus is read
    if output is not None:
        check_writable(output, REPORT)  # before any model time is spent
    cases = load_corpus(corpus if corpus is not None else shipped_corpus())
    report = evaluate(cases, model, review)
    if output is not None:
        write_json(report, output, REPORT)
    print_report(report, sys.stdout)
