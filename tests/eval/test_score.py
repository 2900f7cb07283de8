"""Scores from matched cases (reviewer.eval.score): the ratios, their undefined cases, and the
groups per defect class and language."""

from __future__ import annotations

from reviewer.eval.match import Outcome
from reviewer.eval.report import CaseResult, Cost, DefectResult, FindingResult
from reviewer.eval.score import by_class, by_language, scores
from reviewer.models import Category, Severity

COST = Cost(duration_s=1.0, model_calls=1, chunks=1, prompt_tokens=10, completion_tokens=2)


def case(
    kind: str, language: str, defects: list[tuple[str, bool]], outcomes: list[Outcome]
) -> CaseResult:
    return CaseResult(
        id=f"{language}-{kind}-{len(defects)}-{len(outcomes)}",
        summary="s",
        language=language,
        kind=kind,  # type: ignore[arg-type]
        cost=COST,
        defects=tuple(
            DefectResult(defect_class=c, path="a", side="new", lines=(1, 1), found=f)
            for c, f in defects
        ),
        findings=tuple(
            FindingResult(path="a", side="RIGHT", line=1, end_line=1, severity=Severity.LOW,
                          category=Category.BUG, title="t", outcome=o,
                          defects=() if o is Outcome.FALSE_POSITIVE else (0,))  # fmt: skip
            for o in outcomes
        ),
        findings_dropped=0,
    )


CASES = [
    case("defect", "python", [("injection", True)], [Outcome.HIT, Outcome.DUPLICATE]),
    case("defect", "python", [("injection", False), ("xss", True)],
         [Outcome.HIT, Outcome.FALSE_POSITIVE]),  # fmt: skip
    case("defect", "go", [("race-condition", False)], []),
    case("clean", "go", [], [Outcome.FALSE_POSITIVE]),
    case("clean", "python", [], []),
]


def test_overall_scores() -> None:
    s = scores(CASES)
    assert (s.defects, s.defects_found, s.findings, s.matched, s.duplicates) == (4, 2, 5, 3, 1)
    assert s.false_positives == 2
    assert s.recall == 0.5 and s.precision == 0.6
    assert s.f1 == round(2 * 0.5 * 0.6 / 1.1, 4)
    assert (s.clean_cases, s.clean_cases_flagged, s.false_positive_rate) == (2, 1, 0.5)
    assert s.findings_per_clean_case == 0.5


def test_per_class_counts_only_that_class_and_its_cases_findings() -> None:
    classes = by_class(CASES)
    assert set(classes) == {"injection", "xss", "race-condition"}
    inj = classes["injection"]
    assert (inj.cases, inj.defects, inj.defects_found, inj.findings) == (2, 2, 1, 4)
    assert inj.recall == 0.5 and inj.precision == 0.75
    assert classes["race-condition"].precision is None  # no finding
    assert classes["race-condition"].f1 == 0.0
    assert inj.false_positive_rate is None  # a class has no clean case


def test_per_language_holds_its_clean_cases() -> None:
    go = by_language(CASES)["go"]
    assert (go.cases, go.defects, go.clean_cases, go.false_positive_rate) == (2, 1, 1, 1.0)
    assert go.recall == 0.0 and go.precision == 0.0


def test_nothing_to_find_has_no_recall_and_no_f1() -> None:
    s = scores([CASES[-1]])
    assert (s.recall, s.precision, s.f1) == (None, None, None)
    assert s.false_positive_rate == 0.0
