"""`reviewer post` end to end against the fake GitHub: placement, nothing lost, no 422 for
the user, no duplicates on a re-run, one summary edited in place, retries and refusals."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from reviewer.errors import ExitCode, PostError
from reviewer.formats.summary import heading
from reviewer.models import Severity
from reviewer.post.publish import PostSettings, post_command
from tests.markdown_html import assert_inert, audit, seen
from tests.post.github_fake import FakeGitHub
from tests.post.pr_data import INLINE, SUMMARY_ONLY, document, findings

STAMP = re.compile(r"updated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")


def run_post(findings_file: Path, env: dict[str, str], **kw: object) -> tuple[ExitCode, str, str, list[float]]:
    out, err, slept = io.StringIO(), io.StringIO(), []
    settings = PostSettings(findings=findings_file, **kw)  # type: ignore[arg-type]
    code = post_command(settings, env, out=out, err=err, sleep=slept.append)
    return code, out.getvalue(), err.getvalue(), slept


def bodies(fake: FakeGitHub) -> list[str]:
    """Everything the bot wrote that a reader sees: inline comments, review bodies, summary."""
    bot_inline = [c["body"] for c in fake.review_comments if "reviewer:fingerprint" in c["body"]]
    return bot_inline + [r["body"] for r in fake.reviews] + [s["body"] for s in fake.summaries()]


def test_first_run_puts_every_finding_in_exactly_one_place(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    code, _, err, _ = run_post(findings_file, env)
    assert code is ExitCode.OK
    assert fake.schema_errors == []
    assert all(status < 400 for *_, status in fake.log)  # no 422 at all: placement was right
    assert len(fake.reviews) == 1
    review_post = [e for e in fake.writes() if e[1].endswith("/reviews")][0]
    assert review_post[2]["event"] == "COMMENT"
    assert review_post[2]["commit_id"] == fake.head_sha
    posted = {c["path"] + ":" + str(c["line"]): c for c in review_post[2]["comments"]}
    assert posted["src/app.py:6"]["start_line"] == 5 and posted["src/app.py:6"]["start_side"] == "RIGHT"
    assert all(c["side"] == "RIGHT" for c in review_post[2]["comments"])
    assert len(review_post[2]["comments"]) == len(INLINE)
    for f in findings():
        where = [b for b in bodies(fake) if heading(f) in b]
        assert len(where) == 1, f.fingerprint  # in full exactly once
        inline = "<!-- reviewer:fingerprints=" + f.fingerprint + " -->" in where[0]
        assert inline is (f.fingerprint in INLINE)
    summary = fake.summaries()[0]["body"]
    assert summary.count("| inline comment |") == len(INLINE)
    assert summary.count("| below |") == len(SUMMARY_ONLY)
    assert "`poetry.lock`: lockfile" in summary
    assert "5 inline comments posted, 4 findings only in the summary, 0 already present" in err
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().startswith("<!-- reviewer:summary -->")


def test_second_run_changes_nothing_but_the_summary_timestamp(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    run_post(findings_file, env)
    first_summary = fake.summaries()[0]["body"]
    comments, reviews, issue_comments = len(fake.review_comments), len(fake.reviews), len(fake.issue_comments)
    writes_before = len(fake.writes())
    code, _, err, _ = run_post(findings_file, env)
    assert code is ExitCode.OK
    assert (len(fake.review_comments), len(fake.reviews), len(fake.issue_comments)) == (comments, reviews, issue_comments)
    writes = fake.writes()[writes_before:]
    assert [(m, p.rsplit("/", 2)[-2]) for m, p, *_ in writes] == [("PATCH", "comments"), ("POST", "app")]
    assert writes[-1][1].endswith("/check-runs")  # a new check run: the latest one counts
    assert len(fake.summaries()) == 1
    assert STAMP.sub("", fake.summaries()[0]["body"]) == STAMP.sub("", first_summary)
    assert "0 inline comments posted" in err and "5 already present" in err and "updated" in err


def test_hostile_text_is_neutralised_and_bodies_stay_within_limits(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    run_post(findings_file, env)
    hostile = next(c["body"] for c in fake.review_comments if "fp-hostile" in c["body"])
    huge = next(c["body"] for c in fake.review_comments if "fp-huge" in c["body"])
    for body in bodies(fake):
        assert len(body) <= 65_536
        assert "ghp_abcdefghijklmnopqrstuvwxyz" not in body and "AKIAIOSFODNN7EXAMPLE" not in body
        assert "hunter22" not in body
        assert_inert(body)  # no tag, link, image, ping or reference once GitHub renders it
    text = seen(hostile)
    # Shown as the text it is, not acted on.
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
    assert "[click](javascript:alert(3))" in text and "Ping @octocat and @org/team" in text
    assert "code <b> @keep" in audit(hostile).codes  # code keeps its text
    # The unclosed fence is closed, so the real marker is the last line and is not in code.
    assert hostile.rstrip().endswith("```\n\n<!-- reviewer:fingerprints=fp-hostile -->")
    assert audit(hostile).comments == [" reviewer:fingerprints=fp-hostile "]
    assert "truncated by reviewer" in huge and len(huge) < 10_000


def test_suggestion_fence_is_longer_than_any_backtick_run(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    run_post(findings_file, env)
    shell = next(c["body"] for c in fake.review_comments if "fp-shell" in c["body"])
    assert "````suggestion\n    subprocess.call([cmd])  # no ``` shell\n````" in shell


def test_a_422_falls_back_to_the_review_body_and_reruns_add_nothing(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    # Between our read and our write the pull request moved: README.md's lines are gone.
    fake.files_at_post = [f for f in fake.files if f["filename"] != "README.md"]
    code, _, err, _ = run_post(findings_file, env)
    assert code is ExitCode.OK
    assert [s for *_, s in fake.log if s == 422] == [422]
    assert len(fake.reviews) == 1 and fake.review_comments[-1]["body"] == "review comment 34"
    review = fake.reviews[0]["body"]
    assert review.rstrip().endswith(" -->") and "fp-hostile" in review.splitlines()[-1]
    for f in findings():
        where = [b for b in bodies(fake) if heading(f) in b]
        assert len(where) == 1, f.fingerprint
    assert "in the review body" in err
    assert fake.summaries()[0]["body"].count("| in the review |") == len(INLINE)
    before = (len(fake.reviews), len(fake.review_comments))
    run_post(findings_file, env)
    assert (len(fake.reviews), len(fake.review_comments)) == before
    assert fake.schema_errors == []


def test_summary_found_by_marker_on_a_later_page_is_edited(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    for n in range(120):
        fake.add_issue_comment(f"chatter {n}")
    old = fake.add_issue_comment("<!-- reviewer:summary -->\nold summary", author=fake.author)
    run_post(findings_file, env)
    assert len(fake.summaries()) == 1 and fake.summaries()[0]["id"] == old["id"]
    assert "old summary" not in old["body"]


def test_secondary_rate_limit_waits_as_told_then_succeeds(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    fake.rate_limit_writes = 2
    code, _, _, slept = run_post(findings_file, env)
    assert code is ExitCode.OK and slept == [1.0, 1.0]
    assert len(fake.reviews) == 1 and len(fake.summaries()) == 1


def test_rate_limit_longer_than_the_budget_gives_exit_3(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    fake.rate_limit_writes, fake.retry_after = 1, "120"
    with pytest.raises(PostError) as e:
        run_post(findings_file, env, max_wait=60.0)
    assert e.value.exit_code == ExitCode.NOT_REVIEWED and "rate limited" in e.value.message
    assert fake.reviews == []


def test_server_errors_are_retried_with_backoff(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    fake.server_errors = 2
    code, _, _, slept = run_post(findings_file, env)
    assert code is ExitCode.OK and slept == [1.0, 2.0]


def test_wrong_token_is_refused_and_nothing_is_written(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    env["GITHUB_TOKEN"] = "ghs_wrong"
    with pytest.raises(PostError, match="401"):
        run_post(findings_file, env)
    assert fake.writes() == []


def test_read_only_token_with_fallback_prints_annotations(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    fake.read_only = True
    with pytest.raises(PostError, match="403") as refused:
        run_post(findings_file, env)
    # The hint names what the example workflows grant; `issues: write` is not needed.
    assert "`pull-requests: write`" in (refused.value.hint or "")
    assert "issues" not in (refused.value.hint or "")
    code, out, err, _ = run_post(findings_file, env, annotations_fallback=True, fail_on=Severity.HIGH)
    assert code is ExitCode.FINDINGS
    assert out.count("::error file=") == 3 and "printing annotations" in err


def test_dry_run_reads_but_never_writes(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    code, out, _, _ = run_post(findings_file, env, dry_run=True)
    assert code is ExitCode.OK
    assert fake.writes() == [] and fake.log
    assert "would post a review with 5 inline comments" in out
    assert "would create" in out
    assert not Path(env["GITHUB_STEP_SUMMARY"]).exists()


def test_dry_run_in_actions_switches_workflow_commands_off(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    env["GITHUB_ACTIONS"] = "true"
    _, out, _, _ = run_post(findings_file, env, dry_run=True)
    first, last = out.splitlines()[0], out.rstrip("\n").splitlines()[-1]
    token = first.removeprefix("::stop-commands::")
    assert first.startswith("::stop-commands::") and len(token) == 32 and last == f"::{token}::"


def test_partial_review_says_so_in_the_summary(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> None:
    from reviewer.models import Status

    path = tmp_path / "partial.json"
    path.write_text(document(Status.PARTIAL, head="1234567" * 5 + "12345").model_dump_json())
    run_post(path, env)
    summary = seen(fake.summaries()[0]["body"])
    assert "Status: Partial review: some of the diff was not reviewed" in summary
    assert "model_timeout: chunk 2 timed out" in summary
    assert "moved on since the review" in summary  # the event's head differs from the document's


def test_min_severity_keeps_lower_findings_out_of_inline_comments_and_in_the_summary(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str]
) -> None:
    code, _, err, _ = run_post(findings_file, env, min_severity=Severity.HIGH)
    assert code is ExitCode.OK and fake.schema_errors == []
    by_fp = {f.fingerprint: f for f in findings()}
    high = {fp for fp in INLINE if by_fp[fp].severity.rank >= Severity.HIGH.rank}
    assert high and high != INLINE  # the test data has inline findings on both sides of it
    posted = [c["body"] for c in fake.review_comments]
    assert {fp for fp in INLINE if any(f"fingerprints={fp} -->" in b for b in posted)} == high
    summary = fake.summaries()[0]["body"]
    for f in findings():  # nothing lost: every finding is in exactly one place, in full
        assert sum(heading(f) in b for b in bodies(fake)) == 1, f.fingerprint
    below = [f for f in findings() if f.severity.rank < Severity.HIGH.rank]
    assert seen(summary).count("below --min-severity high") == len(below)
    assert f"{len(high)} inline comment" in err
