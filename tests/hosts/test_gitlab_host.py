"""The GitLab host against the faithful fake GitLab (tests/hosts/gitlab_fake.py), through the
shared poster: each finding inline at the position GitLab accepts (added, removed, unchanged
lines, ranges) or in the summary, GitLab's own suggestion block, nothing lost when GitLab
refuses a comment, nothing twice on a re-run, only our own notes counted, a fixed finding's
discussion resolved, the verdict as a commit status, and the client's guarantees (pagination,
rate limits, 5xx, no redirect, no token in an error, no plain http off this machine)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from reviewer.errors import ExitCode, PostError, UsageError
from reviewer.formats.summary import Where
from reviewer.models import Finding, FindingsDocument, Severity, Status
from reviewer.post.bodies import marked_fingerprints
from reviewer.post.check import CheckRun
from reviewer.post.host import Host, HostForbidden
from reviewer.post.hosts import gitlab as gitlab_host
from reviewer.post.hosts.rest import RetryPolicy
from reviewer.post.poster import Outcome, Poster
from reviewer.post.publish import PostSettings, post_command
from reviewer.post.target import Target
from reviewer.post.transport import Transport
from tests.diff.gitrepo_helpers import GitRepo
from tests.hosts.conftest import APP_HEAD, Change
from tests.hosts.diff_model import line_code
from tests.hosts.gitlab_fake import TOKEN, FakeGitLab
from tests.hosts.test_gitlab_fake import position
from tests.markdown_html import render
from tests.post.pr_data import document as sample_document
from tests.post.pr_data import finding

APP = "src/app.py"
STAMP = "2026-12-02 00:00:00 UTC"
SUMMARY = "<!-- reviewer:summary -->"


def findings() -> tuple[Finding, ...]:
    """On the fake's change (tests/hosts/conftest.py): src/app.py line 3 changed, old line 20
    removed, `line 27b` added after line 27; README.md added; old.txt deleted; a pure rename."""
    return (
        finding("fp-added", APP, 3, severity=Severity.HIGH, suggestion="line 3\n"),
        finding("fp-removed", APP, 20, side="LEFT", head_line=19),
        finding("fp-context", APP, 20),  # new line 20 is old line 21, unchanged
        finding("fp-range", APP, 26, 27),  # unchanged `line 27`, then the added `line 27b`
        finding("fp-readme", "README.md", 1, 3, suggestion="# App\n\nChanged.\n"),
        finding("fp-deleted", "old.txt", 1, side="LEFT", head_line=1),
        finding("fp-off-diff", APP, 12),  # a line of the file outside every hunk
        finding("fp-renamed", "docs/renamed.md", 1),  # a rename without changes: no diff
        finding("fp-not-in-mr", "src/other.py", 3),
    )


INLINE = {"fp-added", "fp-removed", "fp-context", "fp-range", "fp-readme", "fp-deleted"}


def document(
    change: Change, *, drop: tuple[str, ...] = (), head: str | None = None, **kw: Any
) -> FindingsDocument:
    doc = sample_document(head=head or change.head_sha, **kw)
    kept = tuple(f for f in findings() if f.fingerprint not in drop)
    return doc.model_copy(update={"findings": kept})


def target(fake: FakeGitLab, **kw: Any) -> Target:
    return Target(api_url=fake.url, repo=fake.project_path, number=fake.iid, host="gitlab", **kw)


def connect(
    fake: FakeGitLab, sleep: Callable[[float], None] = lambda s: None, **kw: Any
) -> gitlab_host.GitLabHost:
    transport = Transport(proxy=None, verify=True)
    return gitlab_host.connect(
        target(fake, **kw), TOKEN, transport=transport, policy=RetryPolicy(), sleep=sleep
    )


def on_server(url: str, repo: str = "group/app") -> gitlab_host.GitLabHost:
    """The GitLab host on any server (not the fake): for the client's own guarantees."""
    t = Target(api_url=url, repo=repo, number=7, host="gitlab")
    transport = Transport(proxy=None, verify=True)
    return gitlab_host.connect(
        t, TOKEN, transport=transport, policy=RetryPolicy(), sleep=lambda s: None
    )


def post(
    fake: FakeGitLab,
    doc: FindingsDocument,
    sleep: Callable[[float], None] = lambda s: None,
    between: Callable[[], None] = lambda: None,
) -> Outcome:
    """One `reviewer post` through the shared poster; `between` runs after the reads, before
    the writes (what GitLab may do in that time)."""
    host = connect(fake, sleep)
    try:
        poster = Poster(host, host.identity() or "")
        plan = poster.plan(doc)
        between()
        return poster.apply(doc, plan, STAMP)
    finally:
        host.close()


def escaped(text: str) -> str:
    """Text as the summary's Markdown escapes it."""
    return text.replace("-", "\\-")


def where(outcome: Outcome) -> dict[str, Where]:
    return {p.finding.fingerprint: p.where for p in outcome.placed}


def thread_of(fake: FakeGitLab, fingerprint: str) -> dict[str, Any]:
    (found,) = [
        d for d in fake.diff_discussions() if f"={fingerprint} -->" in d["notes"][0]["body"]
    ]
    return found


def top_notes(fake: FakeGitLab, author: str | None = None) -> list[dict[str, Any]]:
    return [
        n
        for d in fake.discussions
        for n in d["notes"]
        if n["type"] is None and (author is None or n["author"]["username"] == author)
    ]


# --- placement -----------------------------------------------------------------------------


def test_each_finding_is_placed_where_gitlab_accepts_it(gitlab: FakeGitLab, change: Change) -> None:
    outcome = post(gitlab, document(change))
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE
    positions = {
        marked_fingerprints(d["notes"][0]["body"])[0]: d["notes"][0]["position"]
        for d in gitlab.diff_discussions()
    }
    v = gitlab.latest
    lines = {
        fp: (p["old_path"], p["new_path"], p["old_line"], p["new_line"])
        for fp, p in positions.items()
    }
    assert lines == {
        "fp-added": (APP, APP, None, 3),
        "fp-removed": (APP, APP, 20, None),
        "fp-context": (APP, APP, 21, 20),
        "fp-range": (APP, APP, None, 27),
        "fp-readme": ("README.md", "README.md", None, 3),
        "fp-deleted": ("old.txt", "old.txt", 1, None),
    }
    assert {(p["base_sha"], p["start_sha"], p["head_sha"]) for p in positions.values()} == {
        (v.base_sha, v.start_sha, v.head_sha)
    }
    # GitLab's counters: `line 27` is old 27/new 26, `line 27b` old 28/new 27
    assert positions["fp-range"]["line_range"] == {
        "start": {"line_code": line_code(APP, 27, 26), "type": "new"},
        "end": {"line_code": line_code(APP, 28, 27), "type": "new"},
    }
    assert positions["fp-added"]["line_range"] is None
    reasons = {p.finding.fingerprint: p.reason for p in outcome.placed if p.where is Where.SUMMARY}
    assert reasons == {  # in GitLab's own words: a merge request
        "fp-off-diff": "lines not in the merge request's current diff",
        "fp-renamed": "GitLab shows no diff for this file",
        "fp-not-in-mr": "file not in the merge request's current files",
    }
    assert all(escaped(f"Title {fp}") in outcome.summary for fp in reasons)
    # One note besides the discussions: the summary; no "left N comments" note on every push.
    assert [n["body"][: len(SUMMARY)] for n in top_notes(gitlab)] == [SUMMARY]
    gitlab.assert_valid()


def apply_suggestion(text: str, anchor: int, body: str) -> str:
    """What GitLab's "Apply suggestion" does: replace the lines the fence's -A+B names around
    the note's line with the block's content (read from the rendered HTML, as a user sees it)."""
    html = render(body)
    m = re.search(r'<pre lang="suggestion:-(\d+)\+(\d+)"><code>(.*?)</code></pre>', html, re.S)
    assert m is not None, html
    above, below, code = int(m.group(1)), int(m.group(2)), m.group(3)
    lines = text.split("\n")
    new = code.removesuffix("\n").split("\n")
    return "\n".join(lines[: anchor - 1 - above] + new + lines[anchor + below :])


def test_a_suggestion_applies_to_exactly_the_findings_lines(
    gitlab: FakeGitLab, change: Change
) -> None:
    post(gitlab, document(change))
    readme = thread_of(gitlab, "fp-readme")["notes"][0]
    assert "```suggestion:-2+0\n# App\n\nChanged.\n```" in readme["body"]
    applied = apply_suggestion("# App\n\nNew.\n", readme["position"]["new_line"], readme["body"])
    assert applied == "# App\n\nChanged.\n"
    added = thread_of(gitlab, "fp-added")["notes"][0]
    assert "```suggestion:-0+0\nline 3\n```" in added["body"]
    applied = apply_suggestion(APP_HEAD, added["position"]["new_line"], added["body"])
    assert applied == APP_HEAD.replace("line three\n", "line 3\n")


def test_no_suggestion_is_offered_beyond_what_gitlab_applies(gitlab: FakeGitLab) -> None:
    host = connect(gitlab)
    assert host.suggestion_fence(5, 105) == "suggestion:-100+0"
    assert host.suggestion_fence(5, 106) is None  # GitLab: at most 100 lines above
    host.close()


def test_a_refused_comment_falls_back_and_nothing_is_lost(
    gitlab: FakeGitLab, change: Change
) -> None:
    doc = document(change)

    def hide_readme() -> None:  # GitLab stops showing README.md's diff: its comment is refused
        gitlab.latest.files = [f for f in gitlab.latest.files if f.new_path != "README.md"]

    outcome = post(gitlab, doc, between=hide_readme)
    assert where(outcome)["fp-readme"] is Where.REVIEW and outcome.fallback
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE - {"fp-readme"}
    fallback = [n for n in top_notes(gitlab) if not n["body"].startswith(SUMMARY)]
    assert len(fallback) == 1 and "GitLab refused the comments" in fallback[0]["body"]
    assert escaped("Title fp-readme") in fallback[0]["body"]
    assert len(gitlab.diff_discussions()) == len(INLINE) - 1
    # A re-run recognises the fallback note's trailer: nothing is posted again.
    count = len(gitlab.notes())
    again = post(gitlab, doc)
    assert len(gitlab.notes()) == count and again.count(Where.REVIEW, already=True) == 1
    gitlab.assert_valid()


def test_a_push_between_read_and_write_sends_every_finding_to_one_fallback_note(
    gitlab: FakeGitLab, change: Change
) -> None:

    def push() -> None:  # a new version: GitLab refuses positions on the old one
        gitlab.push(change.diff)

    outcome = post(gitlab, document(change), between=push)
    assert gitlab.diff_discussions() == []
    assert {fp for fp, w in where(outcome).items() if w is Where.REVIEW} == INLINE
    assert len(top_notes(gitlab)) == 2  # the fallback note and the summary


# --- re-runs and whose notes count ----------------------------------------------------------


def test_a_rerun_posts_nothing_twice_and_edits_the_summary_in_place(
    gitlab: FakeGitLab, change: Change
) -> None:
    first = post(gitlab, document(change))
    before = len(gitlab.notes())
    writes = len(gitlab.writes())
    second = post(gitlab, document(change))
    assert len(gitlab.notes()) == before
    new_writes = gitlab.writes()[writes:]
    assert [(m, p) for m, p, _, _ in new_writes] == [
        ("PUT", f"/api/v4/projects/group/app/merge_requests/7/notes/{first.summary_id}")
    ]
    assert second.summary_id == first.summary_id and not second.summary_created
    assert second.count(Where.INLINE, already=True) == len(INLINE)


def test_someone_elses_summary_and_fingerprints_count_for_nothing(
    gitlab: FakeGitLab, change: Change
) -> None:
    planted_summary = gitlab.add_note(f"{SUMMARY}\nall clear", author="attacker")
    gitlab.add_note("x\n\n<!-- reviewer:fingerprints=fp-readme -->", author="attacker")
    pos = {**position(change, new_line=3), "old_line": None, "line_range": None}
    planted = gitlab._note(
        "x\n\n<!-- reviewer:fingerprints=fp-added -->", "attacker", pos, "DiffNote"
    )
    gitlab.discussions.append(gitlab._discussion([planted], individual=False))
    gitlab.add_note(
        "<!-- reviewer:fingerprints=fp-context -->", author=gitlab.username, system=True
    )
    outcome = post(gitlab, document(change))
    assert not any(p.already_posted for p in outcome.placed)
    assert (
        where(outcome)["fp-added"] is Where.INLINE and where(outcome)["fp-context"] is Where.INLINE
    )
    assert outcome.summary_created and outcome.summary_id != planted_summary["id"]
    assert planted_summary["body"] == f"{SUMMARY}\nall clear"
    ours = [
        d
        for d in gitlab.diff_discussions()
        if d["notes"][0]["author"]["username"] == gitlab.username
    ]
    assert len(ours) == len(INLINE)


def test_our_summary_is_found_across_pages(gitlab: FakeGitLab, change: Change) -> None:
    gitlab.max_per_page = 4  # GitLab caps per_page; the client must follow every page
    for n in range(30):
        gitlab.add_note(f"chatter {n}")
    first = post(gitlab, document(change))
    for n in range(10):
        gitlab.add_note(f"more chatter {n}")
    second = post(gitlab, document(change))
    assert second.summary_id == first.summary_id and len(top_notes(gitlab, gitlab.username)) == 1
    assert second.count(Where.INLINE, already=True) == len(INLINE)
    pages = [p for m, p, _, _ in gitlab.log if m == "GET" and p.endswith("/discussions")]
    assert len(pages) >= 2 * 10  # more than 40 discussions at 4 a page, twice


def test_the_summary_of_a_review_of_an_older_head_speaks_of_the_merge_request(
    gitlab: FakeGitLab, change: Change
) -> None:
    post(gitlab, document(change, head="d" * 40))
    (summary,) = top_notes(gitlab, gitlab.username)
    assert "The merge request has moved on since the review" in summary["body"]
    assert "merge request\\'s current diff" in summary["body"]  # as the Markdown escapes it
    assert "pull request" not in summary["body"]


def test_a_push_that_fixes_a_finding_resolves_its_discussion_only(
    gitlab: FakeGitLab, change: Change
) -> None:
    post(gitlab, document(change))
    newer = gitlab.push(change.diff)
    post(gitlab, document(change, drop=("fp-added",), head=newer.head_sha))
    assert thread_of(gitlab, "fp-added")["resolved"] is True
    assert thread_of(gitlab, "fp-added")["notes"][0]["resolved_by"]["username"] == gitlab.username
    assert [thread_of(gitlab, fp)["resolved"] for fp in sorted(INLINE - {"fp-added"})] == [
        False
    ] * 5
    resolves = [p for m, p, _, _ in gitlab.writes() if m == "PUT" and "/discussions/" in p]
    assert resolves == [
        f"/api/v4/projects/group/app/merge_requests/7/discussions/{thread_of(gitlab, 'fp-added')['id']}"
    ]
    # The threads posted on the first version stay; nothing is posted again on the new one.
    assert len(gitlab.diff_discussions()) == len(INLINE)
    gitlab.assert_valid()


@pytest.mark.parametrize(
    "status", [Status.PARTIAL, Status.COMPLETE], ids=["incomplete", "other-head"]
)
def test_no_discussion_is_resolved_when_the_review_cannot_say(
    gitlab: FakeGitLab, change: Change, status: Status
) -> None:
    post(gitlab, document(change))
    newer = gitlab.push(change.diff)
    head = newer.head_sha if status is Status.PARTIAL else change.head_sha
    post(gitlab, document(change, drop=("fp-added",), head=head, status=status))
    assert not any(d["resolved"] for d in gitlab.diff_discussions())


# --- the verdict: a commit status on the head --------------------------------------------------


def run_post(
    fake: FakeGitLab,
    tmp_path: Path,
    doc: FindingsDocument,
    env: Mapping[str, str] | None = None,
    **kw: Any,
) -> tuple[ExitCode, str]:
    path = tmp_path / "findings.json"
    path.write_text(doc.model_dump_json())
    err = io.StringIO()
    settings = PostSettings(
        findings=path, host="gitlab", repo=fake.project_path, pr=fake.iid, api_url=fake.url, **kw
    )
    env = {"REVIEWER_GITLAB_TOKEN": TOKEN, **(env or {})}
    code = post_command(settings, env, out=io.StringIO(), err=err, sleep=lambda s: None)
    return code, err.getvalue()


def test_the_status_is_set_last_on_the_head_and_gates(
    gitlab: FakeGitLab, change: Change, tmp_path: Path
) -> None:
    code, err = run_post(gitlab, tmp_path, document(change), fail_on=Severity.HIGH)
    assert code is ExitCode.FINDINGS
    (status,) = gitlab.statuses
    assert (status["sha"], status["name"], status["status"]) == (
        change.head_sha,
        "reviewer",
        "failed",
    )
    assert status["description"] == "1 finding at or above high" and status["target_url"] is None
    method, path, _, _ = gitlab.writes()[-1]
    assert (method, path) == ("POST", f"/api/v4/projects/group/app/statuses/{change.head_sha}")
    assert "failure" in err
    gitlab.assert_valid()


def test_a_clean_review_is_success_and_an_accepted_incomplete_one_says_so(
    gitlab: FakeGitLab, change: Change, tmp_path: Path
) -> None:
    run_post(
        gitlab, tmp_path, document(change), fail_on=Severity.CRITICAL, check_name="code review"
    )
    partial = document(change, status=Status.PARTIAL)
    run_post(gitlab, tmp_path, partial, env={"LOCAL_LLM_OPTIONAL": "true"})
    run_post(gitlab, tmp_path, partial)
    assert [(s["name"], s["status"], s["description"]) for s in gitlab.statuses] == [
        ("code review", "success", "No findings at or above critical"),
        ("reviewer", "success", "Review not complete (partial); LOCAL_LLM_OPTIONAL is set"),
        ("reviewer", "failed", "Review not complete (partial): failing closed"),
    ]


def test_a_refused_status_is_an_error_annotations_cannot_hide(httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*/statuses/.*")).respond_with_json(
        {"message": "403 Forbidden"}, status=403
    )
    host = on_server(httpserver.url_for("/api/v4"))
    with pytest.raises(PostError) as refused:
        host.set_status(CheckRun("reviewer", "a" * 40, "failure", "t", "s"))
    assert not isinstance(refused.value, HostForbidden)
    assert "Developer role" in (refused.value.hint or "")


# --- the client: pagination, retries, redirects, the token ------------------------------------


def test_rate_limits_and_server_errors_are_retried(gitlab: FakeGitLab, change: Change) -> None:
    gitlab.rate_limits, gitlab.retry_after, gitlab.server_errors = 1, "3", 2
    slept: list[float] = []
    outcome = post(gitlab, document(change), sleep=slept.append)
    # GitLab's Retry-After, then the shared backoff on the two 502s
    assert slept[0] == 3.0 and len(slept) == 3 and slept[1] < slept[2]
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE
    assert [s for _, _, _, s in gitlab.log].count(429) == 1


def test_a_redirect_is_not_followed(httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_response(
        Response(status=301, headers={"Location": "https://elsewhere.example/api/v4/x"})
    )
    host = on_server(httpserver.url_for("/api/v4"))
    with pytest.raises(PostError, match="redirect to elsewhere.example.*not followed"):
        host.change_request()
    assert len(httpserver.log) == 1


def test_the_token_is_never_in_an_error(httpserver: HTTPServer) -> None:
    httpserver.expect_request(re.compile(".*")).respond_with_json(
        {"message": f"401 bad token {TOKEN}"}, status=401
    )
    host = on_server(httpserver.url_for("/api/v4"))
    with pytest.raises(PostError) as refused:
        host.change_request()
    assert TOKEN not in str(refused.value) and "***" in refused.value.message
    assert "REVIEWER_GITLAB_TOKEN" in (refused.value.hint or "")
    assert httpserver.log[0][0].headers["PRIVATE-TOKEN"] == TOKEN


def test_plain_http_to_another_machine_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text(sample_document().model_dump_json())
    settings = PostSettings(
        findings=path,
        host="gitlab",
        repo="group/app",
        pr=7,
        api_url="http://gitlab.example.com/api/v4",
    )
    opened: list[Target] = []

    def never(t: Target, token: str, env: Mapping[str, str], **kw: Any) -> Host:
        opened.append(t)
        raise AssertionError("connected")

    with pytest.raises(UsageError, match="unencrypted"):
        post_command(settings, {"REVIEWER_GITLAB_TOKEN": TOKEN}, connect=never)
    assert opened == []


def test_a_project_id_or_an_encoded_path_and_nothing_that_walks_out(gitlab: FakeGitLab) -> None:
    host = connect(gitlab, project_id=gitlab.project_id)
    assert host.change_request().head_sha == gitlab.latest.head_sha
    host.close()
    assert gitlab.log[-1][1].startswith("/api/v4/projects/42/merge_requests/7/")
    for bad in ("..", "group/..", "group//app", "app"):
        with pytest.raises(UsageError, match="not a GitLab project path"):
            on_server(gitlab.url, bad)


# --- a second change: a removed range, binary and hidden diffs ---------------------------------


def test_a_range_of_removed_lines_uses_old_line_codes(gitlab: FakeGitLab, tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "other")
    repo.write("lib.py", "".join(f"row {n}\n" for n in range(1, 11)))
    base = repo.commit("base")
    repo.write("lib.py", "".join(f"row {n}\n" for n in range(1, 11) if n not in (5, 6)))
    head = repo.commit("head")
    gitlab.push(repo.git("diff", base, head).decode(), base, head)
    doc = sample_document(head=head).model_copy(
        update={
            "findings": (
                finding("fp-gone", "lib.py", 5, 6, side="LEFT", head_line=4, suggestion="row 5\n"),
            )
        }
    )
    outcome = post(gitlab, doc)
    assert where(outcome) == {"fp-gone": Where.INLINE}
    (discussion,) = gitlab.diff_discussions()
    pos = discussion["notes"][0]["position"]
    assert (pos["old_line"], pos["new_line"]) == (6, None)
    # removed rows 5 and 6 sit before new row 5 (row 7): GitLab's counters old 5/new 5, 6/5
    assert pos["line_range"] == {
        "start": {"line_code": line_code("lib.py", 5, 5), "type": "old"},
        "end": {"line_code": line_code("lib.py", 6, 5), "type": "old"},
    }
    # A removed line's suggestion is never offered to apply (it is not in the head file).
    body = discussion["notes"][0]["body"]
    assert "```suggestion" not in body and "```\nrow 5\n```" in body
    gitlab.assert_valid()


@pytest.mark.parametrize(
    "entry",
    [
        {"diff": "", "new_path": "logo.png"},  # a binary file: GitLab shows no hunks
        {"diff": "Binary files a/logo.png and b/logo.png differ\n", "new_path": "logo.png"},
        {"diff": "@@ -1 +1 @@\n-a\n+b\n", "new_path": "big.sql", "too_large": True},
        {"diff": "@@ -1 +1 @@\n-a\n+b\n", "new_path": "gen.js", "collapsed": True},
    ],
)
def test_a_file_gitlab_shows_without_a_diff_has_no_commentable_line(entry: dict[str, Any]) -> None:
    f = gitlab_host.diff_file(entry)
    assert f.patch is None and f.old_path == f.new_path == entry["new_path"]
    files = gitlab_host.pull_files([f])
    assert files.reason_not_inline(finding("fp", f.new_path, 1)) == (
        "GitLab shows no diff for this file"
    )


def test_an_answer_in_another_shape_is_a_clear_error(httpserver: HTTPServer) -> None:
    # An --api-url that reaches something JSON-speaking but not GitLab's API.
    httpserver.expect_request(re.compile(".*/versions$")).respond_with_json([{"id": "x"}])
    httpserver.expect_request(re.compile(".*")).respond_with_json({"sha": "a" * 40})
    with pytest.raises(PostError, match="in a shape it does not use") as odd:
        on_server(httpserver.url_for("/api/v4")).change_request()
    assert "CI_API_V4_URL" in (odd.value.hint or "")
