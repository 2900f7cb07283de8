"""Helpers every human-facing format shares: the plain status sentence, ordering, counts."""

from __future__ import annotations

from collections import Counter

from reviewer.models import Finding, FindingsDocument, Severity, Status

SEVERITY_ORDER = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))


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
    """`path:line` or `path:first-last`."""
    first, last = line_span(finding)
    return f"{finding.path}:{first}-{last}" if last > first else f"{finding.path}:{first}"
