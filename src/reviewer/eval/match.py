"""Findings matched to labelled defects by file and line, with no judge model.

The rules (docs/evaluation.md says the same):

1. A finding matches a defect when all three hold:
   - it names the defect's path;
   - it is on the defect's side: a `LEFT` finding (a removed line, old-file numbers) on an
     `old` defect, a `RIGHT` finding (head-file numbers) on a `new` one;
   - its lines `line..end_line` overlap the defect's lines widened by TOLERANCE lines each way
     (a defect on [10, 12] is met by any finding touching 7..15).
2. Each defect counts once. The first finding (in the document's order) that matches a defect
   not yet found is a `hit`; a later finding that matches only defects already found is a
   `duplicate`: not a hit again, and not a false positive either.
3. A finding over two defects matches both (each is found).
4. A finding that matches no defect is a `false_positive`.
5. Severity and category are reported beside each match; they never decide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from reviewer.eval.corpus import Defect
from reviewer.models import Finding

TOLERANCE = 3  # lines each way: models often point at the line before or after the flaw

_SIDE = {"new": "RIGHT", "old": "LEFT"}


class Outcome(StrEnum):
    HIT = "hit"
    DUPLICATE = "duplicate"
    FALSE_POSITIVE = "false_positive"


@dataclass(frozen=True)
class FindingMatch:
    """One finding's outcome and the defects (by index) it matches."""

    outcome: Outcome
    defects: tuple[int, ...]


@dataclass(frozen=True)
class CaseMatch:
    findings: tuple[FindingMatch, ...]  # in the order of the findings given
    found: tuple[bool, ...]  # per defect, in label order


def matches(finding: Finding, defect: Defect, tolerance: int = TOLERANCE) -> bool:
    """Rule 1: same path, same side, overlapping lines within the tolerance."""
    if finding.path != defect.path or finding.side != _SIDE[defect.side]:
        return False
    first, last = defect.lines
    return finding.line <= last + tolerance and finding.end_line >= first - tolerance


def match_case(
    defects: Sequence[Defect], findings: Sequence[Finding], tolerance: int = TOLERANCE
) -> CaseMatch:
    """Rules 2 to 4 over one case's findings, in their order."""
    found = [False] * len(defects)
    results: list[FindingMatch] = []
    for finding in findings:
        hits = tuple(i for i, d in enumerate(defects) if matches(finding, d, tolerance))
        if not hits:
            results.append(FindingMatch(Outcome.FALSE_POSITIVE, ()))
            continue
        new = any(not found[i] for i in hits)
        for i in hits:
            found[i] = True
        results.append(FindingMatch(Outcome.HIT if new else Outcome.DUPLICATE, hits))
    return CaseMatch(findings=tuple(results), found=tuple(found))
