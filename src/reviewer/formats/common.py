"""Helpers every human-facing format shares: the plain status sentence, ordering, counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from reviewer.models import Finding, FindingsDocument, Severity, Status

SEVERITY_ORDER = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))
LISTED_FILES = 50  # files a human-facing format names per list; the rest are counted


def left_out(document: FindingsDocument) -> tuple[list[NotReviewed], list[NotReviewed]]:
    """(unreviewed, policy): every file group the model did not see, from the accounting
    (or, for a document without one, its skipped list, whose entries default to policy)."""
    groups = [
        NotReviewed(f.path, g.reason, g.added, g.removed, g.policy)
        for f in document.coverage.files
        for g in f.not_seen
    ]
    if not document.coverage.files:
        groups = [
            NotReviewed(s.path, s.reason, s.added, s.removed, s.policy) for s in document.skipped
        ]
    return [g for g in groups if not g.policy], [g for g in groups if g.policy]


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 finding`, `0 findings`, `2 findings`: a count with its noun in the right number.
    `many` for the irregular ones (`plural(n, "answer reused", "answers reused")`)."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def bounded(items: list[str], limit: int = LISTED_FILES) -> list[str]:
    """The first `limit` items and, for a longer list, a line that counts the rest."""
    if len(items) <= limit:
        return items
    return [*items[:limit], f"... and {len(items) - limit} more"]


class NotReviewed(NamedTuple):
    path: str
    reason: str
    added: int
    removed: int
    policy: bool

    def describe(self) -> str:
        return f"{self.reason}, {self.added} added and {plural(self.removed, 'removed line')}"


def status_sentence(document: FindingsDocument) -> str:
    """Say plainly how complete the review is and, when it is not, why (from `errors`)."""
    why = "; ".join(f"{e.kind}: {e.message}" for e in document.errors)
    stats = document.stats
    if document.status is Status.COMPLETE:
        return "Review complete."
    if document.status is Status.PARTIAL:
        failed = f"{stats.chunks_failed} of {stats.chunks} chunks failed" if stats.chunks else ""
        detail = "; ".join(p for p in (failed, why) if p)
        return "Partial review: some of the diff was not reviewed" + (
            f" ({detail})." if detail else "."
        )
    if document.status is Status.SKIPPED:
        return "Review skipped: the model was not run" + (f" ({why})." if why else ".")
    return "Review failed" + (f" ({why})." if why else ".")


def sorted_findings(findings: tuple[Finding, ...]) -> list[Finding]:
    """Most severe first, then by location, so every format lists them the same way."""
    return sorted(findings, key=lambda f: (-f.severity.rank, f.path, f.line, f.end_line))


def severity_counts(findings: tuple[Finding, ...]) -> dict[Severity, int]:
    counts = Counter(f.severity for f in findings)
    return {s: counts.get(s, 0) for s in SEVERITY_ORDER}


def line_span(finding: Finding) -> tuple[int, int]:
    """(first, last) line, whichever order the document gave them in."""
    return min(finding.line, finding.end_line), max(finding.line, finding.end_line)


def location(finding: Finding) -> str:
    """`path:line` or `path:first-last`; for a LEFT finding the path and `(removed line N of
    the old file)`: a head-file number would point at other code."""
    if finding.side == "LEFT":
        return f"{finding.path} ({removed_lines(finding)})"
    first, last = line_span(finding)
    return f"{finding.path}:{first}-{last}" if last > first else f"{finding.path}:{first}"


def removed_lines(finding: Finding) -> str:
    """`removed line N of the old file` or `removed lines N-M of the old file`."""
    first, last = line_span(finding)
    span = f"lines {first}-{last}" if last > first else f"line {first}"
    return f"removed {span} of the old file"


def head_span(finding: Finding) -> tuple[int, int]:
    """The head-file lines a format that only knows the head file points at: the finding's
    own for RIGHT; for LEFT the head line the removed lines followed (1 if unknown)."""
    if finding.side == "LEFT":
        at = finding.head_line or 1
        return at, at
    return line_span(finding)


def clean_document(
    document: FindingsDocument,
    one_line: Callable[[str], str],
    multi_line: Callable[[str], str] | None = None,
) -> FindingsDocument:
    """A copy of `document` with every string that came from a diff, a model or a document file
    passed through a cleaner: `multi_line` for messages and suggestions (which keep their
    newlines), `one_line` for everything else. Formats for people render the copy, so no
    text can reach a terminal or a page unneutralised, whichever field it hides in."""
    lines = multi_line or one_line
    findings = tuple(
        f.model_copy(
            update={
                "path": one_line(f.path),
                "title": one_line(f.title),
                "message": lines(f.message),
                "suggestion": None if f.suggestion is None else lines(f.suggestion),
                "fingerprint": one_line(f.fingerprint),
            }
        )
        for f in document.findings
    )
    skipped = tuple(
        s.model_copy(update={"path": one_line(s.path), "reason": one_line(s.reason)})
        for s in document.skipped
    )
    errors = tuple(
        e.model_copy(update={"kind": one_line(e.kind), "message": one_line(e.message)})
        for e in document.errors
    )
    files = tuple(
        f.model_copy(
            update={
                "path": one_line(f.path),
                "not_seen": tuple(
                    g.model_copy(update={"reason": one_line(g.reason)}) for g in f.not_seen
                ),
            }
        )
        for f in document.coverage.files
    )
    coverage = document.coverage.model_copy(update={"files": files})
    model = document.model.model_copy(
        update={
            "backend": one_line(document.model.backend),
            "name": one_line(document.model.name),
            "digest": None if document.model.digest is None else one_line(document.model.digest),
        }
    )
    tool = document.tool.model_copy(update={"version": one_line(document.tool.version)})
    return document.model_copy(
        update={
            "findings": findings,
            "skipped": skipped,
            "errors": errors,
            "coverage": coverage,
            "model": model,
            "tool": tool,
            "base": None if document.base is None else one_line(document.base),
            "head": None if document.head is None else one_line(document.head),
        }
    )
