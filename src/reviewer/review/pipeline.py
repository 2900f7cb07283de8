"""`reviewer run` as one readable sequence: policy, plan (diff, filters, chunks), every local
check, the model's calibration (the chunks cut again to the calibrated estimate), dry run or
review, output, exit code."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from reviewer.backends import check_backend_settings, check_model_arguments
from reviewer.chunks.calibration import MAX_SCALE
from reviewer.errors import ExitCode, UsageError
from reviewer.formats import format_name
from reviewer.models import FindingsDocument, ReviewPlan
from reviewer.plan.build import build_plan, check_chunk_budget, rescaled
from reviewer.review.calibration import Calibrator, raised
from reviewer.review.dryrun import check_dry_run_format
from reviewer.settings.slices import OutputSettings, ReviewRequest

if TYPE_CHECKING:
    from reviewer.backends.tokens import PromptCounter


def review_and_report(request: ReviewRequest) -> ExitCode:
    """Plan the review the request asks for, run it (or show it, with --dry-run), write the
    findings document, and return the exit code it means. Each stage gets its own slice."""
    model, output = request.model, checked_output(request.output)
    check_model_arguments(model)
    calibrator = Calibrator(model, request.review, offline=output.dry_run)
    try:
        return _plan_and_review(request, output, calibrator)
    finally:
        calibrator.close()


def _plan_and_review(
    request: ReviewRequest, output: OutputSettings, calibrator: Calibrator
) -> ExitCode:
    model = request.model
    plan = build_plan(
        request.diff, request.plan, num_ctx=model.num_ctx, num_predict=model.num_predict
    )
    if output.dry_run:
        from reviewer.review.dryrun import show_dry_run, write_requests

        plan = _calibrated(plan, request, calibrator)  # a stored calibration, if any
        if output.show_prompts is not None:
            write_requests(plan, model, request.review, output.show_prompts)
        show_dry_run(plan, output)
        return ExitCode.OK

    from reviewer.findings.document import check_writable
    from reviewer.findings.verdict import verdict
    from reviewer.review.interrupt import Interrupted, release
    from reviewer.review.loop import review
    from reviewer.review.requests import PromptLog

    if output.output is not None:
        check_writable(output.output)  # before any model time is spent
    # The auditor's record of each request, written before it is sent.
    log = None
    if output.show_prompts is not None:
        from reviewer.chunks.prompt import system_prompt

        log = PromptLog.open(output.show_prompts, system_prompt(plan.context))
    # Every local check first (the backend settings, the raw plan's --max-chunks): a run
    # refused anyway asks the server nothing, calibration included.
    check_backend_settings(model)
    check_chunk_budget(plan, request.review.max_chunks)

    def calibrate(raw: ReviewPlan) -> tuple[ReviewPlan, PromptCounter | None]:
        return _calibrated(raw, request, calibrator), calibrator.counter

    try:
        document = review(model, plan, request.review, prompt_log=log, calibrate=calibrate)
    except Interrupted as e:
        # SIGINT/SIGTERM: the findings so far (status partial or failed) are still written.
        if e.document is not None:
            _output(e.document, output)
        raise
    _output(document, output)
    release()  # a signal held while the document was written interrupts now
    return verdict(document, output.fail_on, optional=request.review.optional)


log = logging.getLogger(__name__)
_FITTINGS = 3  # times the chunks are cut again for a server's exact count


def _calibrated(plan: ReviewPlan, request: ReviewRequest, calibrator: Calibrator) -> ReviewPlan:
    """The plan cut again for the model's calibration (nothing is asked for an empty one)."""
    if not plan.chunks:
        return plan
    model = request.model
    sizes, scale = (model.num_ctx, model.num_predict), calibrator.scale()
    cut = plan
    for _ in range(_FITTINGS):
        try:
            cut = rescaled(plan, scale, request.plan, sizes, request.diff.context_lines)
        except UsageError:
            break  # a scale that leaves no room: the last cut stands, refused chunk by chunk
        # A server that counts exactly counts every chunk: one the sample's scale made too
        # large for the context cuts them all again with the scale raised to fit it, so no
        # request is refused for a low estimate (the same diff gives the same chunks again).
        worst = calibrator.worst_fit(cut)
        if worst is None or worst <= 1.0:
            break
        scale = raised(scale, worst)
        log.debug("calibration: a chunk is %.3f times the room; scale raised to %.3f", worst, scale)
        if scale > MAX_SCALE:
            break  # no scale makes it fit: that chunk is refused before it is sent
    return cut


def checked_output(settings: OutputSettings) -> OutputSettings:
    """The output settings with --format checked first, in every mode: an unknown name, or one
    a dry run cannot print (it shows a plan, not findings), is a usage error before git, a
    file or the model is touched. The name comes back in its canonical case."""
    if settings.format is None:
        return settings
    name = format_name(settings.format)
    if settings.dry_run:
        check_dry_run_format(name)
    return settings.model_copy(update={"format": name})


def _output(document: FindingsDocument, settings: OutputSettings) -> None:
    """The document to --output (atomically) and in --format to stdout. Runs with signals
    held (see reviewer.review.interrupt), so it is never cut short."""
    from reviewer.findings.document import write_document
    from reviewer.formats import render

    if settings.output is not None:
        write_document(document, settings.output)
    if settings.format is not None:
        sys.stdout.write(render(document, settings.format))
    elif settings.output is None:
        sys.stdout.write(render(document, "text"))
