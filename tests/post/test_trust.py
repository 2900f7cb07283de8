"""Only what the poster's own identity wrote counts. Anyone who can comment on the pull request
(its author first) can write a `<!-- reviewer:summary -->` comment or a fingerprint trailer;
through the fake GitHub, neither takes over the summary nor suppresses a finding."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reviewer.errors import ExitCode, UsageError
from reviewer.post.publish import PostSettings, post_command
from tests.post.github_fake import ACTIONS_BOT, FakeGitHub
from tests.post.pr_data import INLINE

ATTACKER = "pr-author"


def run_post(findings_file: Path, env: dict[str, str], **kw: object) -> tuple[ExitCode, str]:
    err = io.StringIO()
    settings = PostSettings(findings=findings_file, **kw)  # type: ignore[arg-type]
    code = post_command(settings, env, out=io.StringIO(), err=err, sleep=lambda s: None)
    return code, err.getvalue()


def inline_fingerprints(fake: FakeGitHub) -> list[str]:
    return [
        c["body"].rsplit("fingerprints=", 1)[1].split(" ")[0]
        for c in fake.review_comments
        if c["user"]["login"] == fake.author and "reviewer:fingerprints=" in c["body"]
    ]


def test_a_planted_summary_is_neither_edited_nor_taken_as_ours(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str]
) -> None:
    planted_body = "<!-- reviewer:summary -->\n**Status:** Complete. No findings. Merge away."
    planted = fake.add_issue_comment(planted_body, author=ATTACKER)
    code, _ = run_post(findings_file, env)
    assert code is ExitCode.OK
    assert planted["body"] == planted_body  # untouched
    assert not [e for e in fake.writes() if e[1].endswith(f"/comments/{planted['id']}")]
    ours = fake.summaries()
    assert len(ours) == 1 and ours[0]["id"] != planted["id"] and "Division by zero" in ours[0]["body"]
    # A re-run edits our own summary, still not the planted one.
    run_post(findings_file, env)
    patches = [e for e in fake.writes() if e[0] == "PATCH"]
    assert [p for _, p, *_ in patches] == [f"/repos/{fake.repo}/issues/comments/{ours[0]['id']}"]
    assert planted["body"] == planted_body and len(fake.summaries()) == 1


def test_a_planted_fingerprint_does_not_suppress_a_finding(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str]
) -> None:
    # The attacker knows (or guesses) the fingerprints of real findings and plants them both
    # as a review comment trailer and as a review body trailer.
    fake.add_review_comment("nothing here\n<!-- reviewer:fingerprints=fp-shell -->", author=ATTACKER)
    fake.add_review("lgtm\n<!-- reviewer:fingerprints=fp-ctx,fp-hostile -->", author=ATTACKER)
    code, err = run_post(findings_file, env)
    assert code is ExitCode.OK
    assert sorted(inline_fingerprints(fake)) == sorted(INLINE)
    assert "0 already present" in err


def test_the_actions_token_is_recognised_as_github_actions_bot(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str]
) -> None:
    fake.installation_token = True  # GET /user answers 403, writes are by github-actions[bot]
    env["GITHUB_ACTIONS"] = "true"
    # A user account named like the bot but without "[bot]" (which no user login can contain).
    fake.add_issue_comment("<!-- reviewer:summary -->\nforged", author="github-actions")
    fake.add_review_comment("x\n<!-- reviewer:fingerprints=fp-shell -->", author="github-actions")
    run_post(findings_file, env)
    assert sorted(inline_fingerprints(fake)) == sorted(INLINE)
    assert [s["user"]["login"] for s in fake.summaries()] == [ACTIONS_BOT]
    before = (len(fake.reviews), len(fake.review_comments), len(fake.issue_comments))
    code, err = run_post(findings_file, env)  # our own comments are found: nothing new
    assert code is ExitCode.OK and "5 already present" in err and "summary comment updated" in err
    assert (len(fake.reviews), len(fake.review_comments), len(fake.issue_comments)) == before
    assert fake.schema_errors == []


def test_an_unknown_identity_outside_actions_needs_author(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str]
) -> None:
    fake.installation_token = True
    with pytest.raises(UsageError, match="which account the token posts as") as e:
        run_post(findings_file, env)
    assert e.value.hint is not None and "--author" in e.value.hint
    assert fake.writes() == []
    code, _ = run_post(findings_file, env, author=ACTIONS_BOT)
    assert code is ExitCode.OK and len(fake.summaries()) == 1


def test_author_override_decides_whose_comments_count(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str]
) -> None:
    # Told that we are someone else, our earlier comments no longer count: the planted ones of
    # that other account would. The override is the invocation's (trusted), never the PR's.
    run_post(findings_file, env)
    env["REVIEWER_POST_AUTHOR"] = ATTACKER
    fake.add_review_comment("x\n<!-- reviewer:fingerprints=fp-shell -->", author=ATTACKER)
    _, err = run_post(findings_file, env)
    assert "1 already present" in err
    assert not [e for e in fake.log if e[1] == "/user"][1:]  # the override skips GET /user


def test_an_app_token_that_is_not_the_actions_bot_is_named_and_then_recognised(
    fake: FakeGitHub, findings_file: Path, env: dict[str, str]
) -> None:
    fake.installation_token, fake.bot_login = True, "my-app[bot]"
    env["GITHUB_ACTIONS"] = "true"
    _, err = run_post(findings_file, env)
    assert "the token posts as 'my-app[bot]', not 'github-actions[bot]'" in err
    env["REVIEWER_POST_AUTHOR"] = "my-app[bot]"
    before = len(fake.review_comments), len(fake.issue_comments)
    _, err = run_post(findings_file, env)
    assert "warning" not in err and "5 already present" in err
    assert (len(fake.review_comments), len(fake.issue_comments)) == before
