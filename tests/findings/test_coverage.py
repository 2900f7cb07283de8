"""The accounting itself: a changed line of a reviewed file that no chunk shows is unreviewed
and can never be forgiven (it would be a chunking bug, and a bug must fail closed)."""

from __future__ import annotations

from reviewer.errors import ExitCode
from reviewer.findings.coverage import coverage, left_out_unreviewed, unreviewed_entry
from reviewer.findings.verdict import verdict
from reviewer.models import (
    Chunk,
    ChunkFile,
    FileDiff,
    FileStatus,
    FindingsDocument,
    ModelInfo,
    ReviewPlan,
    SkippedFile,
    Status,
    ToolInfo,
)


def _plan(shown_added: set[int], shown_removed: set[int]) -> tuple[ReviewPlan, Chunk]:
    f = FileDiff(path="app.py", old_path="app.py", status=FileStatus.MODIFIED, added=3, removed=2)
    chunk = Chunk(
        index=0,
        files=(
            ChunkFile(
                path="app.py",
                added_lines=frozenset(shown_added),
                context_lines=frozenset(),
                removed_lines=frozenset(shown_removed),
                new_texts=dict.fromkeys(shown_added, ""),
                old_texts=dict.fromkeys(shown_removed, ""),
            ),
        ),
        text="",
        estimated_tokens=1,
    )
    return ReviewPlan(files=(f,), chunks=(chunk,)), chunk


def test_every_line_in_a_chunk_that_was_answered_is_seen() -> None:
    plan, chunk = _plan({1, 2, 3}, {4, 5})
    cov = coverage(plan, [chunk])
    assert (cov.added_seen, cov.removed_seen, cov.added_unreviewed, cov.removed_unreviewed) == (
        3, 2, 0, 0,
    )
    assert left_out_unreviewed(cov) == (0, 0, 0) and unreviewed_entry(cov) is None


def test_a_line_in_no_chunk_is_unreviewed_and_fails_closed_even_when_optional() -> None:
    plan, chunk = _plan({1, 2}, {4})
    cov = coverage(plan, [chunk])
    reasons = {g.reason: (g.added, g.removed, g.policy) for g in cov.files[0].not_seen}
    assert reasons == {
        "added_lines_not_sent": (1, 0, False),
        "removed_lines_not_sent": (0, 1, False),
    }
    assert left_out_unreviewed(cov) == (2, 1, 1)
    entry = unreviewed_entry(cov)
    assert entry is not None and "app.py (added_lines_not_sent)" in entry.message
    doc = FindingsDocument(
        status=Status.PARTIAL,
        tool=ToolInfo(version="test"),
        model=ModelInfo(backend="ollama", name="m"),
        coverage=cov,
    )
    assert verdict(doc, None, optional=True) == ExitCode.NOT_REVIEWED


def test_lines_of_a_chunk_the_model_did_not_answer_are_chunk_failed() -> None:
    plan, _ = _plan({1, 2, 3}, {4, 5})
    cov = coverage(plan, [])
    (group,) = cov.files[0].not_seen
    assert (group.reason, group.added, group.removed, group.policy) == ("chunk_failed", 3, 2, False)
    # A model that did not answer is what LOCAL_LLM_OPTIONAL may forgive: not a scope hole.
    assert left_out_unreviewed(cov) == (0, 0, 0)


def _skipped(path: str, reason: str, policy: bool, added: int) -> SkippedFile:
    return SkippedFile(path=path, reason=reason, policy=policy, added=added, removed=1)


def test_totals_split_seen_policy_and_unreviewed_and_name_the_files() -> None:
    plan, chunk = _plan({1, 2}, {4, 5})  # one added line in no chunk
    skipped = (
        _skipped("package-lock.json", "lockfile", True, 7),
        *(_skipped(f"vendor/m{i}.py", "vendored", False, 2) for i in range(6)),
    )
    plan = plan.model_copy(update={"skipped": skipped})
    cov = coverage(plan, [chunk])
    assert (cov.added, cov.removed) == (3 + 7 + 12, 2 + 1 + 6)
    assert (cov.added_seen, cov.removed_seen) == (2, 2)
    assert (cov.added_policy, cov.removed_policy) == (7, 1)
    assert (cov.added_unreviewed, cov.removed_unreviewed) == (1 + 12, 6)
    assert cov.files_unreviewed == 7
    assert [f.path for f in cov.files] == sorted(f.path for f in cov.files)
    assert cov.files[0].path == "app.py"
    entry = unreviewed_entry(cov)
    assert entry is not None and entry.kind == "unreviewed"
    assert entry.message == (
        "13 added and 6 removed lines were not reviewed: app.py (added_lines_not_sent), "
        "vendor/m0.py (vendored), vendor/m1.py (vendored), vendor/m2.py (vendored), "
        "vendor/m3.py (vendored) and 2 more"
    )


def test_five_files_are_named_without_a_count() -> None:
    plan, chunk = _plan({1, 2, 3}, {4, 5})
    skipped = tuple(_skipped(f"gen/g{i}.py", "generated", False, 1) for i in range(5))
    cov = coverage(plan.model_copy(update={"skipped": skipped}), [chunk])
    entry = unreviewed_entry(cov)
    assert entry is not None and entry.message.endswith("gen/g4.py (generated)")
