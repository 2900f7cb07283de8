"""The check run is the gate that reaches the pull request: set on the reviewed head commit,
failure when --fail-on trips or the review is not complete, its body valid against GitHub's
spec, and no text from the (possibly forged) document in it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from reviewer.errors import ExitCode, PostError
from reviewer.models import Severity, Status
from reviewer.post.publish import PostSettings, post_command
from tests.post.github_fake import FakeGitHub
from tests.post.pr_data import document


def run_post(findings_file: Path, env: dict[str, str], **kw: object) -> tuple[ExitCode, str, str]:
    out, err = io.StringIO(), io.StringIO()
    settings = PostSettings(findings=findings_file, **kw)  # type: ignore[arg-type]
    code = post_command(settings, env, out=out, err=err, sleep=lambda s: None)
    return code, out.getvalue(), err.getvalue()


def only_check(fake: FakeGitHub) -> dict[str, Any]:
    assert fake.schema_errors == []
    assert len(fake.check_runs) == 1
    return fake.check_runs[0]


def write(tmp_path: Path, status: Status = Status.COMPLETE, head: str | None = None) -> Path:
    path = tmp_path / f"doc-{status.value}.json"
    path.write_text(document(status, head=head).model_dump_json())
    return path


def test_gate_trips_failure_on_the_head_commit(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    code, _, err = run_post(findings_file, env, fail_on=Severity.HIGH)
    assert code is ExitCode.FINDINGS
    check = only_check(fake)
    assert (check["name"], check["head_sha"], check["status"]) == ("reviewer", fake.head_sha, "completed")
    assert check["conclusion"] == "failure"
    assert check["output"]["title"] == "3 findings at or above high"
    assert "check run 'reviewer'" in err and "failure" in err
    # The check run is written last, after the review and the summary.
    assert fake.writes()[-1][1] == f"/repos/{fake.repo}/check-runs"


def test_nothing_at_or_above_fail_on_is_success(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> None:
    doc = document()
    low = doc.model_copy(update={"findings": tuple(f for f in doc.findings if f.severity.rank < Severity.HIGH.rank)})
    path = tmp_path / "low.json"
    path.write_text(low.model_dump_json())
    code, _, _ = run_post(path, env, fail_on=Severity.HIGH, check_name="code review")
    assert code is ExitCode.OK
    check = only_check(fake)
    assert (check["name"], check["conclusion"]) == ("code review", "success")
    assert check["output"]["title"] == "No findings at or above high"


def test_without_fail_on_a_complete_review_is_success(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    run_post(findings_file, env)
    check = only_check(fake)
    assert check["conclusion"] == "success" and check["output"]["title"] == "Reviewed: 9 findings"


@pytest.mark.parametrize("status", [Status.PARTIAL, Status.FAILED])
def test_an_incomplete_review_fails_closed(fake: FakeGitHub, tmp_path: Path, env: dict[str, str], status: Status) -> None:
    # A pull request that makes its own review incomplete must not pass the gate.
    run_post(write(tmp_path, status), env)
    check = only_check(fake)
    assert check["conclusion"] == "failure" and "not complete" in check["output"]["title"]


def test_local_llm_optional_makes_an_incomplete_review_neutral(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> None:
    env["LOCAL_LLM_OPTIONAL"] = "true"
    run_post(write(tmp_path, Status.PARTIAL), env)
    assert only_check(fake)["conclusion"] == "neutral"


def test_no_check_run_when_the_head_moved_on(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> None:
    # The review was of another commit: a verdict on the current head would be about code
    # nobody reviewed.
    code, _, err = run_post(write(tmp_path, head="1234567" * 5 + "12345"), env)
    assert code is ExitCode.OK and fake.check_runs == [] and "no check run" in err
    assert len(fake.summaries()) == 1  # the comments are still posted
    run_post(write(tmp_path, head=fake.head_sha), env)
    assert only_check(fake)["head_sha"] == fake.head_sha


def test_no_check_run_option(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    run_post(findings_file, env, check_run=False, fail_on=Severity.HIGH)
    assert not [e for e in fake.log if "check-runs" in e[1]]


def test_refused_check_run_is_exit_3_even_with_annotations_fallback(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    fake.checks_forbidden = True
    with pytest.raises(PostError, match="check run") as e:
        run_post(findings_file, env, annotations_fallback=True)
    assert e.value.exit_code is ExitCode.NOT_REVIEWED
    assert e.value.hint is not None and "checks: write" in e.value.hint


def test_no_document_text_reaches_the_check_run(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> None:
    doc = document().model_copy(
        update={"model": document().model.model_copy(update={"name": "@admin <img src=x>"})}
    )
    path = tmp_path / "hostile.json"
    path.write_text(doc.model_dump_json())
    run_post(path, env)
    output = only_check(fake)["output"]
    text = output["title"] + output["summary"]
    for planted in ("@admin", "<img", "<b>", "@octocat", "Shell injection", "README.md"):
        assert planted not in text


def test_dry_run_says_what_the_check_run_would_be(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    _, out, _ = run_post(findings_file, env, dry_run=True, fail_on=Severity.HIGH)
    assert f"would set check run 'reviewer' on {fake.head_sha[:12]}: failure" in out
    assert fake.writes() == []
