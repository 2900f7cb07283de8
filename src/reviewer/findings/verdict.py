"""The exit code a findings document means: the one policy behind `reviewer run`'s exit code
and `reviewer post`'s check run."""

from __future__ import annotations

from reviewer.errors import ExitCode
from reviewer.findings.coverage import left_out_unreviewed
from reviewer.models import Finding, FindingsDocument, Severity, Status


def at_or_above(doc: FindingsDocument, fail_on: Severity | None) -> tuple[Finding, ...]:
    """The findings at or above --fail-on (none when it is not set): the one fail-on check
    behind `reviewer run`'s exit code, `reviewer post`'s exit code and its check run."""
    if fail_on is None:
        return ()
    return tuple(f for f in doc.findings if f.severity.rank >= fail_on.rank)


def verdict(doc: FindingsDocument, fail_on: Severity | None, *, optional: bool) -> ExitCode:
    """0 complete (or skipped/partial under LOCAL_LLM_OPTIONAL) with nothing at or above
    --fail-on; 1 findings at or above --fail-on; 3 review not completed (fail closed).
    Changed lines left out unreviewed are 3 even under LOCAL_LLM_OPTIONAL, which forgives an
    unavailable model, not a pull request that kept its code from the model.
    `reviewer run`'s exit code and `reviewer post`'s check run both come from here."""
    if doc.status in (Status.PARTIAL, Status.FAILED) and not optional:
        return ExitCode.NOT_REVIEWED
    if any(left_out_unreviewed(doc.coverage)) and doc.status is not Status.SKIPPED:
        return ExitCode.NOT_REVIEWED
    if doc.status is Status.FAILED:
        # Only reachable under LOCAL_LLM_OPTIONAL; review() reports that as skipped anyway.
        return ExitCode.OK
    return ExitCode.FINDINGS if at_or_above(doc, fail_on) else ExitCode.OK
