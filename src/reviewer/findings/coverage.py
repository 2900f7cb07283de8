"""Honest accounting: for every changed file, the added and removed lines the model saw and
those it did not, each group with its reason and whether that reason is policy. A review is
complete only when no changed line is unreviewed."""

from __future__ import annotations

from collections.abc import Iterable

from reviewer.models import (
    CHUNK_FAILED,
    REMOVED_NOT_SENT,
    Chunk,
    Coverage,
    ErrorEntry,
    FileCoverage,
    NotSeen,
    ReviewPlan,
)

UNREVIEWED_KIND = "unreviewed"
ADDED_NOT_SENT = "added_lines_not_sent"
NAMED_FILES = 5  # files named in the one-line message; the rest are counted


def _lines(chunks: Iterable[Chunk]) -> dict[str, tuple[set[int], set[int]]]:
    shown: dict[str, tuple[set[int], set[int]]] = {}
    for chunk in chunks:
        for cf in chunk.files:
            added, removed = shown.setdefault(cf.path, (set(), set()))
            added |= cf.added_lines
            removed |= cf.removed_lines
    return shown


def _sent_file(
    path: str,
    total: tuple[int, int],
    sent: tuple[set[int], set[int]],
    seen: tuple[set[int], set[int]],
) -> FileCoverage:
    (added, removed), (sent_a, sent_r), (seen_a, seen_r) = total, sent, seen
    groups = []
    failed = (len(sent_a) - len(seen_a), len(sent_r) - len(seen_r))
    if any(failed):
        groups.append(
            NotSeen(reason=CHUNK_FAILED, policy=False, added=failed[0], removed=failed[1])
        )
    # Every changed line of a kept file is in exactly one chunk (chunking.py): a line in none is
    # a bug, counted as unreviewed and never forgiven, so it can only fail closed.
    unsent = (max(0, added - len(sent_a)), max(0, removed - len(sent_r)))
    if unsent[0]:
        groups.append(NotSeen(reason=ADDED_NOT_SENT, policy=False, added=unsent[0]))
    if unsent[1]:
        groups.append(NotSeen(reason=REMOVED_NOT_SENT, policy=False, removed=unsent[1]))
    return FileCoverage(
        path=path,
        added=added,
        removed=removed,
        added_seen=len(seen_a),
        removed_seen=len(seen_r),
        not_seen=tuple(groups),
    )


def coverage(plan: ReviewPlan, seen_chunks: Iterable[Chunk]) -> Coverage:
    """The accounting of `plan` when the model answered for `seen_chunks`."""
    sent = _lines(plan.chunks)
    # A dry run counts every chunk as answered: the same sets, not built twice (read only).
    seen = sent if seen_chunks is plan.chunks else _lines(seen_chunks)
    empty: tuple[set[int], set[int]] = (set(), set())
    files = [
        _sent_file(
            f.path,
            (f.added, f.removed),
            sent.get(f.path, empty),
            seen.get(f.path, empty),
        )
        for f in plan.files
    ]
    files += [
        FileCoverage(
            path=s.path,
            added=s.added,
            removed=s.removed,
            not_seen=(NotSeen(reason=s.reason, policy=s.policy, added=s.added, removed=s.removed),),
        )
        for s in plan.skipped
    ]
    groups = [g for f in files for g in f.not_seen]
    return Coverage(
        added=sum(f.added for f in files),
        removed=sum(f.removed for f in files),
        added_seen=sum(f.added_seen for f in files),
        removed_seen=sum(f.removed_seen for f in files),
        added_policy=sum(g.added for g in groups if g.policy),
        removed_policy=sum(g.removed for g in groups if g.policy),
        added_unreviewed=sum(g.added for g in groups if not g.policy),
        removed_unreviewed=sum(g.removed for g in groups if not g.policy),
        files_unreviewed=sum(1 for f in files if any(not g.policy for g in f.not_seen)),
        files=tuple(sorted(files, key=lambda f: f.path)),
    )


# Lines not seen because the model did not answer: the chunk errors already say why, and
# LOCAL_LLM_OPTIONAL may forgive them. Every other unreviewed reason is a scope hole.
MODEL_REASONS = frozenset({CHUNK_FAILED})


def unreviewed(cov: Coverage) -> list[tuple[str, str]]:
    """(path, reason) of every unreviewed group left out before the model, in path order."""
    return [
        (f.path, g.reason)
        for f in cov.files
        for g in f.not_seen
        if not g.policy and g.reason not in MODEL_REASONS
    ]


def left_out_unreviewed(cov: Coverage) -> tuple[int, int, int]:
    """(groups, added lines, removed lines) left out unreviewed before the model was asked;
    any group counts, even one of no lines (a binary file)."""
    groups = [
        g for f in cov.files for g in f.not_seen if not g.policy and g.reason not in MODEL_REASONS
    ]
    return len(groups), sum(g.added for g in groups), sum(g.removed for g in groups)


def unreviewed_entry(cov: Coverage) -> ErrorEntry | None:
    """One error entry that names what was left out unreviewed and why (bounded), or None."""
    count, added, removed = left_out_unreviewed(cov)
    if not count:
        return None
    groups = unreviewed(cov)
    named = ", ".join(f"{path} ({reason})" for path, reason in groups[:NAMED_FILES])
    more = f" and {len(groups) - NAMED_FILES} more" if len(groups) > NAMED_FILES else ""
    return ErrorEntry(
        kind=UNREVIEWED_KIND,
        message=(
            # "lines" whatever the counts: it is the noun of both ("1 added and 0 removed
            # lines"); findings/ sits below formats/, whose `plural` it cannot import.
            f"{added} added and {removed} removed lines were not reviewed: {named}{more}"
        ),
    )
