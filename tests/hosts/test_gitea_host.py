"""GiteaHost through the shared poster against the fake Gitea (tests/hosts/gitea_fake.py, whose
requests and answers are checked against Gitea's own API description): placement on added,
removed and context lines, a comment Gitea would store off its diff moved to a review body with
nothing lost, re-runs without duplicates, only our own notes counted, the commit status, and the
client's rules (pagination, retries, no redirect, no token in a message)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.errors import ExitCode, PostError
from reviewer.formats.summary import SUMMARY_MARKER, Where, heading
from reviewer.models import (
    Category,
    Finding,
    FindingsDocument,
    ModelInfo,
    Severity,
    Status,
    ToolInfo,
)
from reviewer.post.check import CheckRun
from reviewer.post.host import Host, NoteKind
from reviewer.post.hosts import gitea as gitea_host
from reviewer.post.hosts.rest import RetryPolicy
from reviewer.post.poster import Outcome, Poster
from reviewer.post.publish import PostSettings, post_command
from reviewer.post.target import Target
from tests.hosts.conftest import Change
from tests.hosts.gitea_fake import TOKEN, FakeGitea

STAMP = "2026-12-02 00:00:00 UTC"
ME = "reviewer-bot"  # FakeGitea.login: who TOKEN is


def finding(fp: str, path: str, line: int, end: int | None = None, **kw: Any) -> Finding:
    data: dict[str, Any] = {
        "path": path,
        "line": line,
        "end_line": end or line,
        "severity": "medium",
        "category": Category.BUG,
        "title": f"Title {fp}",
        "message": f"Message for {fp}.",
        "fingerprint": fp,
        **kw,
    }
    return Finding.model_validate(data)


# On the change of tests/hosts/conftest.py: src/app.py's line 3 changed, old line 20 removed,
# "line 27b" added as new line 27; README.md added; old.txt deleted; docs/name.md renamed.
FINDINGS = (
    finding("fp-added", "src/app.py", 3, suggestion="line 3\n"),
    finding("fp-removed", "src/app.py", 20, side="LEFT"),
    finding("fp-context", "src/app.py", 5),
    finding("fp-range", "src/app.py", 2, 4),
    finding("fp-readme", "README.md", 1),
    finding("fp-deleted", "old.txt", 1, side="LEFT"),
    finding("fp-off-hunk", "src/app.py", 12),
    finding("fp-not-in-pr", "src/other.py", 1),
    finding("fp-rename", "docs/renamed.md", 1),
)
INLINE = {"fp-added", "fp-removed", "fp-context", "fp-range", "fp-readme", "fp-deleted"}
SUMMARY = {"fp-off-hunk", "fp-not-in-pr", "fp-rename"}


def document(*drop: str, head: str | None = None) -> FindingsDocument:
    return FindingsDocument(
        status=Status.COMPLETE,
        tool=ToolInfo(version="0.1.0"),
        model=ModelInfo(backend="ollama", name="qwen2.5-coder:7b"),
        base="a" * 40,
        head=head,
        findings=tuple(f for f in FINDINGS if f.fingerprint not in drop),
    )


def target(fake: FakeGitea, forgejo: bool | None = False) -> Target:
    """The fake's pull request, as a job in Gitea's own Actions names it (forgejo=False)."""
    return Target(api_url=fake.url, repo="org/app", number=fake.index, forgejo=forgejo)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def host(gitea: FakeGitea, sleeps: list[float]) -> Iterator[gitea_host.GiteaHost]:
    opened = gitea_host.connect(target(gitea), TOKEN, sleep=sleeps.append, env={})
    yield opened
    opened.close()


def post(host: Host, doc: FindingsDocument | None = None, author: str = ME) -> Outcome:
    poster = Poster(host, author)
    doc = doc or document()
    return poster.apply(doc, poster.plan(doc), STAMP)


def where(outcome: Outcome) -> dict[str, Where]:
    return {p.finding.fingerprint: p.where for p in outcome.placed}


def ours(fake: FakeGitea) -> list[str]:
    """Every body our account wrote: reviews, their comments, issue comments."""
    items = [*fake.reviews, *fake.review_comments, *fake.issue_comments]
    return [i["body"] for i in items if i["user"]["login"] == fake.login]


def assert_each_finding_once_in_full(fake: FakeGitea, doc: FindingsDocument) -> None:
    for f in doc.findings:
        holding = [b for b in ours(fake) if heading(f) in b]
        assert len(holding) == 1, f.fingerprint


def comments_by_fingerprint(fake: FakeGitea) -> dict[str, dict[str, Any]]:
    found = {}
    for c in fake.review_comments:
        m = re.search(r"fingerprints=([\w-]+) -->\s*\Z", c["body"])
        assert m, c["body"]
        found[m.group(1)] = c
    return found


# --- placement -----------------------------------------------------------------------------


def test_findings_go_inline_on_added_removed_and_context_lines(
    gitea: FakeGitea, host: gitea_host.GiteaHost, change: Change
) -> None:
    outcome = post(host)
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE
    assert {fp for fp, w in where(outcome).items() if w is Where.SUMMARY} == SUMMARY
    at = {
        fp: (c["path"], c["position"], c["original_position"], bool(c["diff_hunk"]))
        for fp, c in comments_by_fingerprint(gitea).items()
    }
    assert at == {
        "fp-added": ("src/app.py", 3, 0, True),
        "fp-removed": ("src/app.py", 0, 20, True),
        "fp-context": ("src/app.py", 5, 0, True),
        "fp-range": ("src/app.py", 4, 0, True),  # a range goes on its last line
        "fp-readme": ("README.md", 1, 0, True),
        "fp-deleted": ("old.txt", 0, 1, True),
    }
    (review,) = gitea.reviews
    assert (review["state"], review["commit_id"], review["comments_count"]) == (
        "COMMENT",
        change.head_sha,
        len(INLINE),
    )
    assert_each_finding_once_in_full(gitea, document())
    gitea.assert_valid()


def test_a_range_is_named_in_the_comment_and_a_suggestion_is_shown_as_code(
    gitea: FakeGitea, host: gitea_host.GiteaHost
) -> None:
    post(host)
    comments = comments_by_fingerprint(gitea)
    assert "src/app.py:2-4" in comments["fp-range"]["body"]  # the whole range, on one line
    added = comments["fp-added"]["body"]
    # Gitea applies no ```suggestion block: the code is a plain block, said to be a suggestion.
    assert "```suggestion" not in added and "Suggested replacement for line 3" in added
    assert "\nline 3\n" in added


def test_binary_and_renamed_files_show_no_diff() -> None:
    diff = (
        "diff --git a/logo.png b/logo.png\nindex 1..2 100644\n"
        "Binary files a/logo.png and b/logo.png differ\n"
        "diff --git a/a.md b/b.md\nsimilarity index 100%\nrename from a.md\nrename to b.md\n"
    )
    files = gitea_host.pull_files(diff, "Forgejo")
    assert files.hunks == {"logo.png": None, "b.md": None} and files.host == "Forgejo"
    assert (
        files.reason_not_inline(finding("x", "logo.png", 1))
        == "Forgejo shows no diff for this file"
    )


def test_a_diff_gitea_cannot_have_sent_is_a_post_error() -> None:
    # Outside their Actions nothing says whether the instance is Gitea or Forgejo.
    with pytest.raises(
        PostError, match="Gitea/Forgejo's diff of the pull request could not be read"
    ):
        gitea_host.pull_files("diff --git a/x b/x\n@@ -1,2 +1,2 @@\n+only one line\n")


# --- a comment Gitea stores off its diff ------------------------------------------------------


def without_readme(diff: str) -> str:
    sections = re.split(r"^(?=diff --git )", diff, flags=re.M)
    return "".join(s for s in sections if not s.startswith("diff --git a/README.md"))


def test_a_comment_off_the_current_diff_moves_to_the_review_body_and_nothing_is_lost(
    gitea: FakeGitea, host: gitea_host.GiteaHost, change: Change
) -> None:
    """The pull request moves between reading its diff and posting: Gitea would store the
    README comment without context (a 200, not a refusal). The host finds it, posts the rest
    inline, and the poster puts the README finding in a review body."""
    poster, doc = Poster(host, ME), document()
    plan = poster.plan(doc)
    gitea.push(without_readme(change.diff))
    outcome = poster.apply(doc, plan, STAMP)
    assert where(outcome)["fp-readme"] is Where.REVIEW and outcome.fallback
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE - {"fp-readme"}
    assert set(comments_by_fingerprint(gitea)) == INLINE - {"fp-readme"}
    assert all(c["diff_hunk"] for c in gitea.review_comments)  # no comment without context
    assert [r["state"] for r in gitea.reviews] == ["COMMENT", "COMMENT"]  # none left pending
    assert "Gitea refused the comments" in gitea.reviews[-1]["body"]
    assert_each_finding_once_in_full(gitea, doc)
    gitea.assert_valid()


def test_when_no_comment_lands_only_the_review_body_is_posted(
    gitea: FakeGitea, host: gitea_host.GiteaHost
) -> None:
    poster, doc = Poster(host, ME), document()
    plan = poster.plan(doc)
    gitea.push("")  # the pull request's changes are gone (reverted)
    outcome = poster.apply(doc, plan, STAMP)
    assert {fp for fp, w in where(outcome).items() if w is Where.REVIEW} == INLINE
    assert gitea.review_comments == [] and [r["state"] for r in gitea.reviews] == ["COMMENT"]
    assert_each_finding_once_in_full(gitea, doc)
    # A re-run on the same diff counts the review body's findings as posted.
    again = post(host, doc)
    assert len(gitea.reviews) == 1 and all(
        p.already_posted for p in again.placed if p.where is Where.REVIEW
    )


def test_off_diff_is_told_by_the_missing_diff_context() -> None:
    sent = [
        {"path": "a", "body": "x", "new_position": 3},
        {"path": "a", "body": "x", "new_position": 3},
        {"path": "b", "body": "y", "old_position": 4},
        {"path": "c", "body": "z", "new_position": 9},
    ]
    landed = [  # in Gitea's order (by file and line), one of the twins without context
        {"path": "b", "body": "y", "position": 0, "original_position": 4, "diff_hunk": "@@"},
        {"path": "a", "body": "x", "position": 3, "original_position": 0, "diff_hunk": "@@"},
        {"path": "a", "body": "x", "position": 3, "original_position": 0, "diff_hunk": ""},
    ]
    assert gitea_host.off_diff(sent, landed) == {1, 3}


def test_a_pending_review_left_by_a_crashed_run_is_discarded_not_submitted(
    gitea: FakeGitea, host: gitea_host.GiteaHost
) -> None:
    stale = gitea.add_review("left behind", author=gitea.login, state="PENDING")
    left = {
        "path": "src/app.py",
        "new_position": 3,
        "body": "stale <!-- reviewer:fingerprints=fp-added -->",
    }
    gitea.review_comments.append(gitea._comment(stale, left))
    # Nothing of a pending review counts as posted: every finding is new.
    outcome = post(host)
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE
    assert stale not in gitea.reviews
    assert not any(c["body"].startswith("stale") for c in gitea.review_comments)
    assert [r["state"] for r in gitea.reviews] == ["COMMENT"]


def test_someone_elses_pending_review_is_left_alone(
    gitea: FakeGitea, host: gitea_host.GiteaHost
) -> None:
    theirs = gitea.add_review("a human's draft", state="PENDING")
    post(host)
    assert theirs in gitea.reviews and theirs["state"] == "PENDING"


# --- re-runs and authorship --------------------------------------------------------------------


def test_a_rerun_posts_nothing_twice_and_edits_the_summary_in_place(
    gitea: FakeGitea, host: gitea_host.GiteaHost
) -> None:
    first = post(host)
    second = post(host)
    assert all(p.already_posted for p in second.placed if p.where is not Where.SUMMARY)
    assert len(gitea.reviews) == 1 and len(gitea.review_comments) == len(INLINE)
    (summary,) = [c for c in gitea.issue_comments if c["user"]["login"] == ME]
    assert summary["id"] == first.summary_id == second.summary_id and not second.summary_created
    assert summary["body"].startswith(SUMMARY_MARKER)
    assert [m for m, *_ in gitea.writes()].count("PATCH") == 1


def test_notes_by_another_user_count_for_nothing(
    gitea: FakeGitea, host: gitea_host.GiteaHost
) -> None:
    """A writer's token could edit them (Gitea lets it): the poster still never does."""
    trailer = "<!-- reviewer:fingerprints=fp-added,fp-removed -->"
    planted = gitea.add_issue_comment(f"{SUMMARY_MARKER}\nall good {trailer}", author="mallory")
    gitea.add_review(f"fake review {trailer}", author="mallory")
    outcome = post(host)
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE
    assert outcome.summary_created and planted["body"].startswith(SUMMARY_MARKER + "\nall good")
    assert not any(m == "PATCH" for m, *_ in gitea.writes())


def test_a_fixed_findings_comment_stays_open_and_is_never_claimed_resolved(
    gitea: FakeGitea, host: gitea_host.GiteaHost, change: Change
) -> None:
    post(host, document(head=change.head_sha))
    outcome = post(host, document("fp-added", head=change.head_sha))
    assert host.can_resolve_threads is False
    assert all(c["resolver"] is None for c in gitea.review_comments)
    assert "fp-added" not in {p.finding.fingerprint for p in outcome.placed}
    summary = next(c for c in gitea.issue_comments if c["user"]["login"] == ME)["body"]
    assert "Title fp-added" not in summary and "resolved" not in summary.lower()
    with pytest.raises(PostError, match="cannot resolve"):
        host.resolve_thread(host.notes()[0])


def test_notes_read_reviews_across_pages_without_a_link_header(
    gitea: FakeGitea, host: gitea_host.GiteaHost
) -> None:
    """Gitea sends no Link header on the review list, and a server may cap the page below the
    limit asked for: our review on the fourth page still counts."""
    gitea.max_limit = 20
    for n in range(65):
        gitea.add_review(f"human review {n}")
    post(host)
    second = post(host)
    assert sum(1 for r in gitea.reviews if r["user"]["login"] == ME) == 1
    assert all(p.already_posted for p in second.placed if p.where is Where.INLINE)
    pages = [e for e in gitea.log if e[0] == "GET" and e[1].endswith("/reviews")]
    assert len(pages) >= 5
    resolved = {n.id for n in host.notes() if n.kind is NoteKind.INLINE and n.resolved}
    assert resolved == set()
    gitea.resolve(gitea.review_comments[0]["id"])
    assert [n.resolved for n in host.notes() if n.kind is NoteKind.INLINE].count(True) == 1


# --- identity and status ---------------------------------------------------------------------


def test_identity_is_get_user_else_the_actions_account_inside_actions(gitea: FakeGitea) -> None:
    def identity(env: Mapping[str, str]) -> str | None:
        where = replace(target(gitea), in_actions=bool(env))
        opened = gitea_host.connect(where, TOKEN, env=env)
        try:
            return opened.identity()
        finally:
            opened.close()

    assert identity({}) == ME
    gitea.user_scope = False
    assert identity({}) is None
    assert identity({"GITEA_ACTIONS": "true"}) == "gitea-actions"
    assert identity({"GITEA_ACTIONS": "true", "FORGEJO_ACTIONS": "true"}) == "forgejo-actions"


@pytest.mark.parametrize(
    ("conclusion", "state"),
    [("success", "success"), ("failure", "failure"), ("neutral", "success")],
)
def test_the_status_state_is_what_a_required_check_reads(
    gitea: FakeGitea, host: gitea_host.GiteaHost, change: Change, conclusion: str, state: str
) -> None:
    title = "Review not complete (partial); LOCAL_LLM_OPTIONAL is set\n" + "x" * 300
    host.set_status(CheckRun("reviewer", change.head_sha, conclusion, title, "summary"))
    (status,) = gitea.statuses
    assert (status["sha"], status["context"], status["status"]) == (
        change.head_sha,
        "reviewer",
        state,
    )
    assert "\n" not in status["description"] and len(status["description"]) <= 140
    assert status["description"].startswith("Review not complete (partial)")
    gitea.assert_valid()


def test_a_status_the_token_may_not_set_is_a_clear_error(
    gitea: FakeGitea, host: gitea_host.GiteaHost, change: Change
) -> None:
    gitea.read_only = True
    with pytest.raises(PostError, match="refused to set the commit status") as e:
        host.set_status(CheckRun("reviewer", change.head_sha, "failure", "t", "s"))
    assert type(e.value) is PostError and "write:repository" in (e.value.hint or "")


def test_reviewer_post_sets_the_status_on_the_head_and_gates(
    gitea: FakeGitea, change: Change, tmp_path: Path
) -> None:
    path = tmp_path / "findings.json"
    path.write_text(document(head=change.head_sha).model_dump_json())

    def connect(t: Target, token: str, env: Mapping[str, str], **kw: Any) -> Host:
        return gitea_host.connect(target(gitea), token, env=env)

    settings = PostSettings(findings=path, repo="org/app", pr=gitea.index, fail_on=Severity.MEDIUM)  # type: ignore[arg-type]
    out, err = io.StringIO(), io.StringIO()
    code = post_command(settings, {"GITHUB_TOKEN": TOKEN}, out=out, err=err, connect=connect)
    assert code is ExitCode.FINDINGS
    assert [(s["sha"], s["context"], s["status"]) for s in gitea.statuses] == [
        (change.head_sha, "reviewer", "failure")
    ]
    assert gitea.writes()[-1][0:2] == ("POST", f"/api/v1/repos/org/app/statuses/{change.head_sha}")
    gitea.assert_valid()


# --- the client's rules ------------------------------------------------------------------------


def test_rate_limits_and_server_errors_are_retried(
    gitea: FakeGitea, host: gitea_host.GiteaHost, sleeps: list[float]
) -> None:
    gitea.rate_limits, gitea.retry_after, gitea.server_errors = 1, "2", 2
    request = host.change_request()
    assert request.files.hunks["README.md"] == [frozenset({1, 2, 3})]
    assert len(sleeps) == 3 and sleeps[0] == 2.0  # Retry-After, then backoff on the 503s


@pytest.mark.parametrize(
    ("forgejo", "name"), [(False, "Gitea"), (True, "Forgejo"), (None, "Gitea/Forgejo")]
)
def test_a_server_that_keeps_failing_is_a_post_error_naming_the_instance(
    gitea: FakeGitea, change: Change, forgejo: bool | None, name: str
) -> None:
    """Gitea or Forgejo as the job's runner says; both when nothing says which."""
    gitea.server_errors = 10
    opened = gitea_host.connect(
        target(gitea, forgejo),
        TOKEN,
        sleep=lambda _: None,
        env={},
        policy=RetryPolicy(max_attempts=3),
    )
    assert opened.name == name
    with pytest.raises(PostError, match=f"^{name} answered 503 to GET "):
        opened.change_request()


@pytest.fixture
def other() -> Iterator[HTTPServer]:
    with HTTPServer() as server:
        yield server


def test_a_redirect_is_not_followed(other: HTTPServer) -> None:
    location = "https://elsewhere.example/api/v1/repos/org/app/pulls/7"
    other.expect_request(re.compile(".*")).respond_with_response(
        Response(status=301, headers={"Location": location})
    )
    opened = gitea_host.connect(Target(other.url_for("/api/v1"), "org/app", 7), TOKEN, env={})
    with pytest.raises(PostError, match=r"redirect to elsewhere\.example\); not followed"):
        opened.change_request()
    assert len(other.log) == 1


def test_the_token_is_in_no_error_message(other: HTTPServer) -> None:
    def echo(request: Request) -> Response:
        given = request.headers.get("Authorization", "")
        return Response(
            f'{{"message": "bad header {given}"}}', 422, content_type="application/json"
        )

    other.expect_request(re.compile(".*")).respond_with_handler(echo)
    opened = gitea_host.connect(Target(other.url_for("/api/v1"), "org/app", 7), TOKEN, env={})
    with pytest.raises(PostError) as e:
        opened.create_note("x")
    assert TOKEN not in str(e.value) and "***" in str(e.value)
    assert other.log[0][0].headers["Authorization"] == f"token {TOKEN}"
