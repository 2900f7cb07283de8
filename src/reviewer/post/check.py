"""The verdict that makes `--fail-on` gate the pull request: set on the pull request's head
commit by the token holder (the host's status capability; GitHub: a check run), so branch
protection can require it even when the failing job is not attached to the pull request (the
fork-safe `workflow_run` poster)."""

from __future__ import annotations

from dataclasses import dataclass

from reviewer.errors import ExitCode
from reviewer.findings.verdict import at_or_above, verdict
from reviewer.formats.common import plural
from reviewer.models import FindingsDocument, Severity, Status


@dataclass(frozen=True)
class CheckRun:
    """What the check run says. Built from enums and counts only: no text from the document
    (which may be forged) reaches it."""

    name: str
    head_sha: str
    conclusion: str  # success, failure or neutral
    title: str
    summary: str


def _title(document: FindingsDocument, fail_on: Severity | None, code: ExitCode) -> str:
    if code is ExitCode.NOT_REVIEWED:
        return f"Review not complete ({document.status.value}): failing closed"
    if document.status is not Status.COMPLETE:
        return f"Review not complete ({document.status.value}); LOCAL_LLM_OPTIONAL is set"
    if fail_on is None:
        return f"Reviewed: {plural(len(document.findings), 'finding')}"
    above = len(at_or_above(document, fail_on))
    if above:
        return f"{plural(above, 'finding')} at or above {fail_on.value}"
    return f"No findings at or above {fail_on.value}"


def _summary(document: FindingsDocument, conclusion: str, number: int) -> str:
    counts = " | ".join(str(sum(1 for f in document.findings if f.severity is s)) for s in Severity)
    return "\n".join(
        [
            f"**Conclusion:** {conclusion}. **Review status:** {document.status.value}.",
            "",
            "| " + " | ".join(s.value for s in Severity) + " |",
            "|" + " --- |" * len(Severity),
            f"| {counts} |",
            "",
            f"The findings are in the review and the summary comment on pull request #{number}.",
        ]
    )


def check_run(
    document: FindingsDocument,
    *,
    name: str,
    head_sha: str,
    number: int,
    fail_on: Severity | None,
    optional: bool,
) -> CheckRun:
    """failure when the gate trips or the review is not complete (fail closed, like `reviewer
    run`'s exit code); neutral when it is not complete but LOCAL_LLM_OPTIONAL accepts that;
    success otherwise."""
    code = verdict(document, fail_on, optional=optional)
    if code is not ExitCode.OK:
        conclusion = "failure"
    elif document.status is Status.COMPLETE:
        conclusion = "success"
    else:
        conclusion = "neutral"
    title = _title(document, fail_on, code)
    return CheckRun(name, head_sha, conclusion, title, _summary(document, conclusion, number))
