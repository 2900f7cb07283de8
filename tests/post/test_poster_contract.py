"""The shared poster against the in-memory host: the contract every host module must keep
(placement with its fallback when the host refuses a comment, no duplicates across runs, one
summary edited in place and only when ours, the status, threads of fixed findings resolved),
independent of GitHub's URLs and JSON."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from reviewer.errors import ExitCode, PostError, UsageError
from reviewer.formats.summary import Where, heading
from reviewer.models import FindingsDocument, Severity, Status
from reviewer.post.host import Host, NoteKind
from reviewer.post.poster import Outcome, Poster
from reviewer.post.publish import PostSettings, post_command
from reviewer.post.target import Target
from tests.post.memory_host import HEAD, MemoryHost
from tests.post.pr_data import APP_PATCH, INLINE, README_PATCH, SUMMARY_ONLY, document, findings

PATCHES: dict[str, str | None] = {"src/app.py": APP_PATCH, "README.md": README_PATCH, "logo.png": None}
ON_README = {"fp-hostile", "fp-huge"}
STAMP = "2026-12-01 00:00:00 UTC"


@pytest.fixture(params=[True, False], ids=["whole-review-refused", "one-comment-refused"])
def host(request: pytest.FixtureRequest) -> MemoryHost:
    return MemoryHost(dict(PATCHES), whole_review=request.param)


def post(host: MemoryHost, doc: FindingsDocument | None = None) -> Outcome:
    poster = Poster(host, "reviewer-bot")
    doc = doc or document()
    return poster.apply(doc, poster.plan(doc), STAMP)


def where(outcome: Outcome) -> dict[str, Where]:
    return {p.finding.fingerprint: p.where for p in outcome.placed}


def everything_ours(host: MemoryHost) -> list[str]:
    return [n.body for n in host.stored if n.author == host.writes_as]


def assert_each_finding_once_in_full(host: MemoryHost) -> None:
    """Nothing lost and nothing twice: each finding's heading is in exactly one body (the
    summary only lists the ones it does not hold in full)."""
    for f in findings():
        holding = [b for b in everything_ours(host) if heading(f) in b]
        assert len(holding) == 1, f.fingerprint


def test_every_finding_goes_inline_only_on_the_hosts_current_diff(host: MemoryHost) -> None:
    outcome = post(host)
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE
    assert {fp for fp, w in where(outcome).items() if w is Where.SUMMARY} == SUMMARY_ONLY
    assert host.writes == ["review", "note"]
    assert [head for head, _, _ in host.reviews] == [HEAD]
    assert len(host.ours(NoteKind.INLINE)) == len(INLINE)
    assert_each_finding_once_in_full(host)
    assert outcome.summary_created and not outcome.fallback


def test_a_refused_comment_falls_back_to_a_review_body_and_nothing_is_lost(host: MemoryHost) -> None:
    host.patches_at_post = {k: v for k, v in PATCHES.items() if k != "README.md"}  # it moved
    outcome = post(host)
    moved = INLINE if host.whole_review else ON_README
    assert {fp for fp, w in where(outcome).items() if w is Where.REVIEW} == moved
    assert {fp for fp, w in where(outcome).items() if w is Where.INLINE} == INLINE - moved
    assert outcome.fallback and outcome.review_id == host.ours(NoteKind.REVIEW)[0].id  # the first written
    assert_each_finding_once_in_full(host)
    summary = host.ours(NoteKind.TOP)[0].body
    assert summary.count("| in the review |") == len(moved)
    fallback_body = host.reviews[-1][1]
    assert "Memory refused the comments" in fallback_body and host.reviews[-1][2] == []


def test_refused_twice_the_findings_go_to_the_summary(host: MemoryHost) -> None:
    host.patches_at_post = {}
    host.refuse_body_reviews = True
    outcome = post(host)
    assert all(where(outcome)[fp] is Where.SUMMARY for fp in INLINE)
    assert {p.reason for p in outcome.placed if p.finding.fingerprint in INLINE} == {
        "Memory refused the inline comment"
    }
    assert_each_finding_once_in_full(host)


def test_a_rerun_posts_nothing_twice_and_edits_the_summary_in_place(host: MemoryHost) -> None:
    first = post(host)
    before = list(host.stored)
    second = post(host)
    assert host.writes[2:] == [f"edit {first.summary_id}"]
    assert len(host.stored) == len(before)
    assert second.summary_id == first.summary_id and not second.summary_created
    assert second.count(Where.INLINE, already=True) == len(INLINE)
    assert_each_finding_once_in_full(host)


def test_a_rerun_after_a_fallback_adds_nothing(host: MemoryHost) -> None:
    host.patches_at_post = {}
    post(host)
    count = len(host.stored)
    second = post(host)
    assert len(host.stored) == count
    assert second.count(Where.REVIEW, already=True) == len(INLINE)


def test_a_fallback_in_a_top_level_note_is_recognised_on_a_rerun() -> None:
    # A host without review objects (GitLab) posts the fallback body as a top-level note.
    host = MemoryHost(dict(PATCHES), whole_review=False, review_bodies=False, patches_at_post={})
    host.add_note(NoteKind.TOP, "x\n\n<!-- reviewer:fingerprints=fp-ctx -->", "attacker")
    first = post(host)
    assert not any(p.already_posted for p in first.placed)
    assert [n.kind for n in host.ours(NoteKind.REVIEW)] == []
    count = len(host.stored)
    second = post(host)
    assert len(host.stored) == count
    assert second.count(Where.REVIEW, already=True) == len(INLINE)


def test_notes_by_another_author_count_for_nothing(host: MemoryHost) -> None:
    planted_fp = host.add_note(NoteKind.INLINE, "x\n\n<!-- reviewer:fingerprints=fp-shell -->", "attacker")
    planted_review = host.add_note(NoteKind.REVIEW, "<!-- reviewer:fingerprints=fp-ctx -->", "attacker")
    planted_summary = host.add_note(NoteKind.TOP, "<!-- reviewer:summary -->\nall clear", "attacker")
    outcome = post(host)
    assert where(outcome)["fp-shell"] is Where.INLINE and where(outcome)["fp-ctx"] is Where.INLINE
    assert not any(p.already_posted for p in outcome.placed)
    assert outcome.summary_created and outcome.summary_id != planted_summary.id
    assert host.note(planted_summary.id).body.endswith("all clear")
    assert {host.note(n.id).body for n in (planted_fp, planted_review)} == {planted_fp.body, planted_review.body}


def test_our_old_summary_is_found_by_its_marker_and_edited(host: MemoryHost) -> None:
    for n in range(50):
        host.add_note(NoteKind.TOP, f"chatter {n}")
    old = host.add_note(NoteKind.TOP, "<!-- reviewer:summary -->\nstale text", "reviewer-bot")
    host.add_note(NoteKind.TOP, "<!-- reviewer:summary -->\nlater, by a human")
    outcome = post(host)
    assert outcome.summary_id == old.id and "stale text" not in host.note(old.id).body
    assert len(host.ours(NoteKind.TOP)) == 1
    assert outcome.posted_as == "reviewer-bot" and outcome.author_mismatch("reviewer-bot") is None


# --- threads whose finding is gone --------------------------------------------------------


def without(*fingerprints: str, status: Status = Status.COMPLETE, head: str | None = HEAD) -> FindingsDocument:
    doc = document(status, head=head)
    return doc.model_copy(update={"findings": tuple(f for f in doc.findings if f.fingerprint not in fingerprints)})


def thread_of(host: MemoryHost, fingerprint: str) -> int:
    return next(n.id for n in host.ours(NoteKind.INLINE) if f"={fingerprint} -->" in n.body)


def test_the_thread_of_a_fixed_finding_is_resolved_after_the_summary() -> None:
    host = MemoryHost(dict(PATCHES))
    post(host)
    shell = thread_of(host, "fp-shell")
    post(host, without("fp-shell"))
    assert host.writes[-2:] == [f"edit {host.ours(NoteKind.TOP)[0].id}", f"resolve {shell}"]
    assert [n.id for n in host.ours(NoteKind.INLINE) if n.resolved] == [shell]
    post(host, without("fp-shell"))
    assert host.writes.count(f"resolve {shell}") == 1  # resolved once


@pytest.mark.parametrize(
    "doc",
    [
        without("fp-shell", status=Status.PARTIAL),  # a chunk was not reviewed: no news on it
        without("fp-shell", head="d" * 40),  # a review of another head than the current one
        without("fp-shell", head=None),  # a document that does not say which head it reviewed
    ],
    ids=["incomplete-review", "other-head", "unknown-head"],
)
def test_no_thread_is_resolved_on_a_review_that_cannot_say_it_is_fixed(doc: FindingsDocument) -> None:
    host = MemoryHost(dict(PATCHES))
    post(host)
    post(host, doc)
    assert not any(w.startswith("resolve") for w in host.writes)


def test_another_authors_thread_and_a_host_that_cannot_resolve_are_left_alone() -> None:
    host = MemoryHost(dict(PATCHES))
    planted = host.add_note(NoteKind.INLINE, "x\n\n<!-- reviewer:fingerprints=fp-gone -->", "attacker")
    post(host)
    assert not host.note(planted.id).resolved
    cannot = MemoryHost(dict(PATCHES), can_resolve_threads=False)
    post(cannot)
    post(cannot, without("fp-shell"))  # would assert inside resolve_thread if called
    assert not any(w.startswith("resolve") for w in cannot.writes)


def test_a_thread_the_host_will_not_resolve_is_counted_and_the_others_still_resolved() -> None:
    host = MemoryHost(dict(PATCHES))
    post(host)
    shell, ctx = thread_of(host, "fp-shell"), thread_of(host, "fp-ctx")
    host.refuse_resolving = frozenset({shell})
    outcome = post(host, without("fp-shell", "fp-ctx"))
    assert outcome.threads is not None
    assert (outcome.threads.resolved, outcome.threads.refused) == (1, 1)
    assert outcome.threads.refusal is not None and outcome.threads.refusal.hint == "grant it"
    assert [n.id for n in host.ours(NoteKind.INLINE) if n.resolved] == [ctx]
    assert post(host).threads is None  # nothing gone, nothing to resolve: no count at all


# --- through `reviewer post`'s core: identity, status, refusals ------------------------------


def opener(host: MemoryHost) -> Callable[..., Host]:
    def connect(target: Target, token: str, env: Mapping[str, str], **_: object) -> Host:
        assert (target.repo, target.number, token) == ("o/r", 7, "t0ken-for-tests")
        return host

    return connect


def run(host: MemoryHost, tmp_path: Path, doc: FindingsDocument | None = None, **kw: object) -> tuple[ExitCode, str, str]:
    path = tmp_path / "findings.json"
    path.write_text((doc or document()).model_dump_json())
    out, err = io.StringIO(), io.StringIO()
    settings = PostSettings(findings=path, repo="o/r", pr=7, **kw)  # type: ignore[arg-type]
    env = {"GITHUB_TOKEN": "t0ken-for-tests"}
    code = post_command(settings, env, out=out, err=err, connect=opener(host))
    return code, out.getvalue(), err.getvalue()


def test_the_status_is_set_last_on_the_head_and_gates(tmp_path: Path) -> None:
    host = MemoryHost(dict(PATCHES))
    code, _, err = run(host, tmp_path, fail_on=Severity.HIGH)
    assert code is ExitCode.FINDINGS
    assert host.writes == ["review", "note", "status"] and host.closed
    (status,) = host.statuses
    assert (status.head_sha, status.conclusion, status.name) == (HEAD, "failure", "reviewer")
    assert "failure" in err


def test_the_report_names_the_host_that_refused(tmp_path: Path) -> None:
    host = MemoryHost(dict(PATCHES), patches_at_post={})
    _, _, err = run(host, tmp_path)
    assert f", {len(INLINE)} in the review body (Memory refused them inline)" in err


def test_a_file_the_host_shows_no_diff_for_is_named_with_the_host() -> None:
    outcome = post(MemoryHost(dict(PATCHES)))
    binary = next(p for p in outcome.placed if p.finding.fingerprint == "fp-binary")
    assert binary.reason == "the host shows no diff for this file"


def test_an_incomplete_review_sets_a_failing_status(tmp_path: Path) -> None:
    host = MemoryHost(dict(PATCHES))
    run(host, tmp_path, document(Status.PARTIAL))
    assert [s.conclusion for s in host.statuses] == ["failure"]


def test_no_status_when_the_head_moved_on_since_the_review(tmp_path: Path) -> None:
    host = MemoryHost(dict(PATCHES))
    _, _, err = run(host, tmp_path, document(head="d" * 40))
    assert host.statuses == [] and "no check run" in err
    assert "moved on since the review" in host.ours(NoteKind.TOP)[0].body


def test_the_identity_comes_from_the_host_and_a_mismatch_is_warned(tmp_path: Path) -> None:
    host = MemoryHost(dict(PATCHES), login="someone-else")
    _, _, err = run(host, tmp_path)
    assert "the token posts as 'reviewer-bot', not 'someone-else'" in err
    silent = MemoryHost(dict(PATCHES), login=None)
    with pytest.raises(UsageError, match="cannot tell which account"):
        run(silent, tmp_path)
    assert silent.writes == [] and silent.closed


def test_a_read_only_token_fails_or_falls_back_to_annotations(tmp_path: Path) -> None:
    host = MemoryHost(dict(PATCHES), forbidden=True)
    with pytest.raises(PostError, match="refused the write"):
        run(host, tmp_path)
    code, out, err = run(host, tmp_path, annotations_fallback=True)
    assert code is ExitCode.OK and "printing annotations instead" in err
    assert out.count("::") >= len(findings()) and host.writes == []


def test_a_partial_refusal_is_counted_nowhere_as_inline(tmp_path: Path) -> None:
    """A host that refuses single comments (the README's moved off its diff): the review body
    the comments go with claims no count, and the report counts only what the host took."""
    host = MemoryHost(dict(PATCHES), whole_review=False, patches_at_post={"src/app.py": APP_PATCH})
    _, _, err = run(host, tmp_path)
    (_, first, taken), (_, fallback, none) = host.reviews
    assert len(taken) == len(INLINE - ON_README) and none == []
    assert not any(ch.isdigit() for ch in first), first
    assert f"{len(INLINE - ON_README)} inline comments posted" in err
    assert f", {len(ON_README)} in the review body (Memory refused them inline)" in err
    assert all(heading(f) in fallback for f in findings() if f.fingerprint in ON_README)
