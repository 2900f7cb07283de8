"""The one fail-on check (findings.verdict.at_or_above) and its callers: `reviewer run`'s exit
code, `reviewer post`'s exit code and its check run all count the same findings."""

from __future__ import annotations

import pytest

from reviewer.errors import ExitCode
from reviewer.findings.verdict import at_or_above, verdict
from reviewer.formats.common import plural
from reviewer.models import Severity, Status
from reviewer.post.check import check_run
from reviewer.post.publish import fail_code
from tests.findings.test_document import doc

ALL = tuple(Severity)


@pytest.mark.parametrize("fail_on", [*Severity, None])
def test_at_or_above_keeps_exactly_the_findings_of_that_rank_or_more(
    fail_on: Severity | None,
) -> None:
    document = doc(Status.COMPLETE, *ALL, *ALL)
    kept = at_or_above(document, fail_on)
    if fail_on is None:
        assert kept == ()
        return
    want = [f for f in document.findings if f.severity.rank >= fail_on.rank]
    assert list(kept) == want and len(kept) == 2 * (len(ALL) - fail_on.rank)


@pytest.mark.parametrize("status", [Status.COMPLETE, Status.PARTIAL, Status.SKIPPED])
@pytest.mark.parametrize("fail_on", [*Severity, None])
@pytest.mark.parametrize("found", [(), (Severity.LOW,), (Severity.HIGH, Severity.INFO)])
def test_run_post_and_the_check_run_agree_on_fail_on(
    status: Status, fail_on: Severity | None, found: tuple[Severity, ...]
) -> None:
    document = doc(status, *found)
    above = bool(at_or_above(document, fail_on))
    # post's exit code is the fail-on check alone, whatever the status (README: Exit codes)
    assert fail_code(document, fail_on) is (ExitCode.FINDINGS if above else ExitCode.OK)
    # run's verdict under LOCAL_LLM_OPTIONAL (so status does not decide first) is the same check
    assert (verdict(document, fail_on, optional=True) is ExitCode.FINDINGS) is above
    run = check_run(document, name="r", head_sha="a" * 40, number=1, fail_on=fail_on, optional=True)
    if status is Status.COMPLETE and fail_on is not None:
        count = len(at_or_above(document, fail_on))
        assert run.title.startswith(plural(count, "finding") if count else "No findings")
