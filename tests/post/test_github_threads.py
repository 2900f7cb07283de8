"""`reviewer post` resolves, on the fake GitHub (REST and GraphQL, each request validated against
GitHub's own schemas), exactly the review threads of ours whose findings a complete review of
the current head no longer reports: not a human's, not a planted one with our marker, not one
whose finding remains, not after a partial review or one of another commit; across pages of
threads; and a token GitHub will not let resolve loses nothing (one warning, counted)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reviewer.errors import ExitCode
from reviewer.models import FindingsDocument, Severity, Status
from reviewer.post.publish import PostSettings, post_command
from tests.post.github_fake import FakeGitHub
from tests.post.pr_data import INLINE, document


def post(fake: FakeGitHub, env: dict[str, str], doc: FindingsDocument, path: Path, **kw: object) -> tuple[ExitCode, str]:
    path.write_text(doc.model_dump_json())
    err = io.StringIO()
    settings = PostSettings(findings=path, **kw)  # type: ignore[arg-type]
    code = post_command(settings, env, out=io.StringIO(), err=err, sleep=lambda s: None)
    return code, err.getvalue()


def reviewed(fake: FakeGitHub, *fixed: str, status: Status = Status.COMPLETE, head: str | None = "") -> FindingsDocument:
    """The review of the fake's head (or of `head`) with the findings `fixed` gone."""
    doc = document(status, head=fake.head_sha if head == "" else head)
    return doc.model_copy(update={"findings": tuple(f for f in doc.findings if f.fingerprint not in fixed)})


def thread_of(fake: FakeGitHub, fingerprint: str, author: str | None = None) -> str:
    who = author or fake.author
    comment = next(
        c for c in fake.review_comments
        if c["body"].endswith(f"fingerprints={fingerprint} -->") and c["user"]["login"] == who
    )
    return fake.graphql.thread_of(comment["id"]).node_id


def mutations(fake: FakeGitHub) -> list[str]:
    return [e[2]["variables"]["thread"] for e in fake.writes() if e[1] == "/graphql"]


def test_a_push_that_fixes_one_finding_resolves_exactly_its_thread(fake: FakeGitHub, env: dict[str, str], tmp_path: Path) -> None:
    code, err = post(fake, env, reviewed(fake), tmp_path / "first.json")
    assert code is ExitCode.OK and "threads of fixed findings" not in err  # nothing to resolve yet
    # Anyone can write our marker: a planted thread by another account must never count.
    fake.add_review_comment("looks fixed to me\n\n<!-- reviewer:fingerprints=fp-shell -->", line=5, author="mallory")
    human = fake.graphql.threads[0].node_id
    shell = thread_of(fake, "fp-shell")
    writes_before = len(fake.writes())

    code, err = post(fake, env, reviewed(fake, "fp-shell"), tmp_path / "fixed.json")

    assert code is ExitCode.OK and fake.schema_errors == []
    assert fake.graphql.resolutions == [shell]
    resolved = {t.node_id for t in fake.graphql.threads if t.resolved}
    assert resolved == {shell}  # not the human's, not mallory's, not ours whose findings remain
    assert human not in resolved and thread_of(fake, "fp-shell", "mallory") not in resolved
    kinds = [(m, p.rsplit("/", 1)[-1]) for m, p, *_ in fake.writes()[writes_before:]]
    assert kinds == [("PATCH", str(fake.summaries()[0]["id"])), ("POST", "graphql"), ("POST", "check-runs")]
    assert "1 thread of fixed findings resolved" in err and "could not be" not in err
    assert "warning" not in err

    # Resolved stays resolved: the re-run reads isResolved back and sends no mutation.
    code, err = post(fake, env, reviewed(fake, "fp-shell"), tmp_path / "again.json")
    assert code is ExitCode.OK and mutations(fake) == [shell] and "threads of fixed" not in err


@pytest.mark.parametrize(
    "status, head",
    [
        (Status.PARTIAL, ""),  # a chunk not reviewed says nothing about its findings
        (Status.FAILED, ""),
        (Status.COMPLETE, "1234567" * 5 + "12345"),  # a review of another commit
        (Status.COMPLETE, None),  # a document that does not say which commit
    ],
)
def test_no_thread_is_resolved_unless_a_complete_review_of_the_head_says_so(
    fake: FakeGitHub, env: dict[str, str], tmp_path: Path, status: Status, head: str | None
) -> None:
    post(fake, env, reviewed(fake), tmp_path / "first.json")
    post(fake, env, reviewed(fake, *INLINE, status=status, head=head), tmp_path / "second.json")
    assert mutations(fake) == [] and not any(t.resolved for t in fake.graphql.threads)


def test_threads_are_read_across_pages(fake: FakeGitHub, env: dict[str, str], tmp_path: Path) -> None:
    for n in range(70):  # with the fixture's 35 and our 5: 110 threads, two pages of 100
        fake.add_review_comment(f"more talk {n}", line=24)
    post(fake, env, reviewed(fake), tmp_path / "first.json")
    assert len(fake.graphql.threads) == 110
    hostile = thread_of(fake, "fp-hostile")  # ours come last: on the second page
    assert [t.node_id for t in fake.graphql.threads].index(hostile) >= 100
    log_before = len(fake.log)
    post(fake, env, reviewed(fake, "fp-hostile", "fp-huge"), tmp_path / "fixed.json")
    queries = [e[2] for e in fake.log[log_before:] if e[1] == "/graphql" and "mutation" not in e[2]["query"]]
    assert [q["variables"]["after"] is None for q in queries] == [True, False]
    assert sorted(fake.graphql.resolutions) == sorted([hostile, thread_of(fake, "fp-huge")])
    assert fake.schema_errors == []


@pytest.mark.parametrize("refusal", ["FORBIDDEN", "403"])
def test_a_token_that_may_not_resolve_loses_nothing(
    fake: FakeGitHub, env: dict[str, str], tmp_path: Path, refusal: str
) -> None:
    post(fake, env, reviewed(fake), tmp_path / "first.json")
    fake.graphql.forbidden = refusal == "FORBIDDEN"
    fake.graphql_http_403 = refusal == "403"
    runs_before = len(fake.check_runs)

    code, err = post(fake, env, reviewed(fake, "fp-shell", "fp-ctx"), tmp_path / "fixed.json", fail_on=Severity.HIGH)

    assert code is ExitCode.FINDINGS  # the gate is the document's, as without threads
    assert fake.graphql.resolutions == [] and fake.schema_errors == []
    assert "Shell injection" not in fake.summaries()[0]["body"]  # the summary was updated
    assert len(fake.check_runs) == runs_before + 1 and fake.check_runs[-1]["conclusion"] == "failure"
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1, err
    assert "`contents: write`" in warnings[0] and "Resource not accessible by integration" in warnings[0]
    assert "0 threads of fixed findings resolved, 2 could not be" in err


def test_a_dry_run_says_which_threads_it_would_resolve_and_resolves_none(fake: FakeGitHub, env: dict[str, str], tmp_path: Path) -> None:
    post(fake, env, reviewed(fake), tmp_path / "first.json")
    path = tmp_path / "fixed.json"
    path.write_text(reviewed(fake, "fp-shell").model_dump_json())
    out = io.StringIO()
    writes_before = len(fake.writes())
    post_command(PostSettings(findings=path, dry_run=True), env, out=out, err=io.StringIO())
    assert "would resolve 1 thread of fixed findings" in out.getvalue()
    assert fake.writes()[writes_before:] == [] and fake.graphql.resolutions == []
