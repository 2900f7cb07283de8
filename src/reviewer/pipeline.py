"""`reviewer run` as one readable sequence: policy, plan (diff, filters, chunks), dry run or
review, output, exit code."""

from __future__ import annotations

import sys

from reviewer.config import RunSettings
from reviewer.errors import ExitCode
from reviewer.plan import build_plan
from reviewer.security import check_model_url


def run_command(settings: RunSettings) -> ExitCode:
    check_model_url(settings.base_url, allow_remote=settings.allow_remote_model)
    plan = build_plan(settings)
    if settings.dry_run:
        from reviewer.dryrun import show_dry_run

        show_dry_run(plan, settings)
        return ExitCode.OK

    from reviewer.document import exit_code_for, write_document
    from reviewer.formats import render
    from reviewer.review import review

    document = review(settings, plan)
    if settings.output is not None:
        write_document(document, settings.output)
    if settings.format is not None:
        sys.stdout.write(render(document, settings.format))
    elif settings.output is None:
        sys.stdout.write(render(document, "text"))
    return exit_code_for(document, settings)
