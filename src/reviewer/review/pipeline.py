"""`reviewer run` as one readable sequence: policy, plan (diff, filters, chunks), dry run or
review, output, exit code."""

from __future__ import annotations

import sys

from reviewer.errors import ExitCode
from reviewer.models import FindingsDocument
from reviewer.plan.build import build_plan
from reviewer.security import check_model_url
from reviewer.settings.config import RunSettings


def run_command(settings: RunSettings) -> ExitCode:
    check_model_url(settings.base_url, allow_remote=settings.allow_remote_model)
    plan = build_plan(settings)
    if settings.dry_run:
        from reviewer.review.dryrun import show_dry_run

        show_dry_run(plan, settings)
        return ExitCode.OK

    from reviewer.findings.document import check_writable
    from reviewer.findings.verdict import exit_code_for
    from reviewer.review.interrupt import Interrupted, release
    from reviewer.review.loop import review

    if settings.output is not None:
        check_writable(settings.output)  # before any model time is spent
    try:
        document = review(settings, plan)
    except Interrupted as e:
        # SIGINT/SIGTERM: the findings so far (status partial or failed) are still written.
        if e.document is not None:
            _output(e.document, settings)
        raise
    _output(document, settings)
    release()  # a signal held while the document was written interrupts now
    return exit_code_for(document, settings)


def _output(document: FindingsDocument, settings: RunSettings) -> None:
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
