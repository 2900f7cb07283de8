"""`reviewer run` as one readable sequence: policy, plan (diff, filters, chunks), dry run or
review, output, exit code."""

from __future__ import annotations

import sys

from reviewer.errors import ExitCode
from reviewer.models import FindingsDocument
from reviewer.plan.build import build_plan
from reviewer.security import check_model_url
from reviewer.settings.slices import OutputSettings, ReviewRequest


def review_and_report(request: ReviewRequest) -> ExitCode:
    """Plan the review the request asks for, run it (or show it, with --dry-run), write the
    findings document, and return the exit code it means. Each stage gets its own slice."""
    model, output = request.model, request.output
    check_model_url(model.base_url, allow_remote=model.allow_remote_model)
    plan = build_plan(
        request.diff, request.plan, num_ctx=model.num_ctx, num_predict=model.num_predict
    )
    if output.dry_run:
        from reviewer.review.dryrun import show_dry_run

        show_dry_run(plan, output)
        return ExitCode.OK

    from reviewer.findings.document import check_writable
    from reviewer.findings.verdict import verdict
    from reviewer.review.interrupt import Interrupted, release
    from reviewer.review.loop import review

    if output.output is not None:
        check_writable(output.output)  # before any model time is spent
    try:
        document = review(model, plan, request.review)
    except Interrupted as e:
        # SIGINT/SIGTERM: the findings so far (status partial or failed) are still written.
        if e.document is not None:
            _output(e.document, output)
        raise
    _output(document, output)
    release()  # a signal held while the document was written interrupts now
    return verdict(document, output.fail_on, optional=request.review.optional)


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
