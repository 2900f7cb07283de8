"""Scores from matched cases: recall, precision, F1 and the false-positive rate on clean cases,
for all cases, per defect class and per language.

A group is a set of cases. For a defect class it is the cases that hold a defect of that class:
its recall counts only that class's defects, its precision all findings of those cases (a
false positive has no class of its own). Clean cases belong to no class, so a class's
false-positive rate is null; a language's group holds its clean cases too."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from reviewer.eval.match import Outcome
from reviewer.eval.report import CaseResult, Cost, DefectResult, Scores


def scores(
    cases: Sequence[CaseResult], counts: Callable[[DefectResult], bool] = lambda _: True
) -> Scores:
    """The scores of `cases`, counting the defects `counts` keeps."""
    defects = [d for c in cases for d in c.defects if counts(d)]
    findings = [f for c in cases for f in c.findings]
    found = sum(d.found for d in defects)
    matched = sum(f.outcome is not Outcome.FALSE_POSITIVE for f in findings)
    recall = _ratio(found, len(defects))
    precision = _ratio(matched, len(findings))
    clean = [c for c in cases if c.kind == "clean"]
    return Scores(
        cases=len(cases),
        defects=len(defects),
        defects_found=found,
        findings=len(findings),
        matched=matched,
        duplicates=sum(f.outcome is Outcome.DUPLICATE for f in findings),
        false_positives=len(findings) - matched,
        recall=recall,
        precision=precision,
        f1=_f1(found, len(defects), matched, len(findings)),
        clean_cases=len(clean),
        clean_cases_flagged=sum(bool(c.findings) for c in clean),
        false_positive_rate=_ratio(sum(bool(c.findings) for c in clean), len(clean)),
        findings_per_clean_case=_ratio(sum(len(c.findings) for c in clean), len(clean)),
    )


def by_class(cases: Sequence[CaseResult]) -> dict[str, Scores]:
    names = sorted({d.defect_class for c in cases for d in c.defects})
    return {
        name: scores(
            [c for c in cases if any(d.defect_class == name for d in c.defects)],
            lambda d, name=name: d.defect_class == name,  # type: ignore[misc]
        )
        for name in names
    }


def by_language(cases: Sequence[CaseResult]) -> dict[str, Scores]:
    names = sorted({c.language for c in cases})
    return {name: scores([c for c in cases if c.language == name]) for name in names}


def total_cost(costs: Iterable[Cost], duration_s: float) -> Cost:
    """The cases' costs added up; the duration is the whole run's wall time."""
    costs = list(costs)
    return Cost(
        duration_s=round(duration_s, 3),
        model_calls=sum(c.model_calls for c in costs),
        chunks=sum(c.chunks for c in costs),
        prompt_tokens=sum(c.prompt_tokens for c in costs),
        completion_tokens=sum(c.completion_tokens for c in costs),
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _f1(found: int, defects: int, matched: int, findings: int) -> float | None:
    """The harmonic mean of recall and precision; 0 when nothing was found (precision may
    then be undefined), null when there is no defect to find."""
    if not defects:
        return None
    if not found or not matched:
        return 0.0
    recall, precision = found / defects, matched / findings
    return round(2 * precision * recall / (precision + recall), 4)
