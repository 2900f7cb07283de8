"""The matching rules (reviewer.eval.match) on hand-made findings and defects: an exact hit, a
near miss inside and outside the tolerance, two findings for one defect, one finding over two
defects, a finding in another file, and a removed-line defect matched only from the left."""

from __future__ import annotations

from typing import Any

import pytest

from reviewer.eval.corpus import Defect
from reviewer.eval.match import TOLERANCE, Outcome, match_case, matches
from reviewer.models import Category, Finding, Severity


def defect(path: str = "app/db.py", side: str = "new", lines: tuple[int, int] = (20, 22)) -> Defect:
    return Defect.model_validate(
        {"class": "injection", "path": path, "side": side, "lines": lines, "note": "n"}
    )


def finding(line: int, end_line: int | None = None, **over: Any) -> Finding:
    values: dict[str, Any] = {
        "path": "app/db.py",
        "line": line,
        "end_line": end_line if end_line is not None else line,
        "side": "RIGHT",
        "severity": Severity.HIGH,
        "category": Category.SECURITY,
        "title": "t",
        "message": "m",
        "fingerprint": f"f{line}",
    }
    values.update(over)
    return Finding(**values)


def outcomes(defects: list[Defect], findings: list[Finding]) -> list[tuple[Outcome, tuple[int, ...]]]:
    return [(m.outcome, m.defects) for m in match_case(defects, findings).findings]


def test_the_tolerance_is_three_lines() -> None:
    assert TOLERANCE == 3  # docs/evaluation.md states it


def test_an_exact_hit() -> None:
    result = match_case([defect()], [finding(21)])
    assert result.found == (True,)
    assert outcomes([defect()], [finding(21)]) == [(Outcome.HIT, (0,))]


@pytest.mark.parametrize("line", [17, 18, 19, 23, 24, 25])
def test_a_near_miss_inside_the_tolerance_is_a_hit(line: int) -> None:
    assert matches(finding(line), defect())


@pytest.mark.parametrize("line", [16, 26, 1, 100])
def test_a_near_miss_outside_the_tolerance_is_a_false_positive(line: int) -> None:
    result = match_case([defect()], [finding(line)])
    assert result.found == (False,)
    assert outcomes([defect()], [finding(line)]) == [(Outcome.FALSE_POSITIVE, ())]


def test_a_range_that_reaches_into_the_widened_lines_matches() -> None:
    assert matches(finding(5, 17), defect())  # ends on 17 = 20 - 3
    assert not matches(finding(5, 16), defect())


def test_two_findings_for_one_defect_count_it_once_and_the_second_is_a_duplicate() -> None:
    result = match_case([defect()], [finding(20), finding(22)])
    assert result.found == (True,)
    assert [m.outcome for m in result.findings] == [Outcome.HIT, Outcome.DUPLICATE]


def test_one_finding_over_two_defects_finds_both() -> None:
    two = [defect(lines=(10, 10)), defect(lines=(14, 15))]
    result = match_case(two, [finding(10, 15)])
    assert result.found == (True, True)
    assert outcomes(two, [finding(10, 15)]) == [(Outcome.HIT, (0, 1))]


def test_a_finding_over_a_found_and_a_new_defect_is_a_hit() -> None:
    two = [defect(lines=(10, 10)), defect(lines=(30, 30))]
    result = match_case(two, [finding(10), finding(9, 30)])
    assert [m.outcome for m in result.findings] == [Outcome.HIT, Outcome.HIT]
    assert result.found == (True, True)


def test_a_finding_in_another_file_is_a_false_positive() -> None:
    result = match_case([defect()], [finding(21, path="app/other.py")])
    assert result.found == (False,)
    assert [m.outcome for m in result.findings] == [Outcome.FALSE_POSITIVE]


def test_a_removed_line_defect_is_matched_only_by_a_left_finding() -> None:
    removed = defect(side="old", lines=(23, 24))
    right = finding(23)  # the same numbers on the head side are other lines
    left = finding(23, side="LEFT", head_line=22)
    assert match_case([removed], [right]).found == (False,)
    assert match_case([removed], [left]).found == (True,)
    assert not matches(left, defect(lines=(23, 24)))  # and a LEFT finding never meets a new one


def test_severity_and_category_do_not_decide_a_match() -> None:
    low = finding(21, severity=Severity.INFO, category=Category.STYLE)
    assert match_case([defect()], [low]).found == (True,)


def test_no_finding_finds_nothing_and_no_defect_makes_every_finding_false() -> None:
    assert match_case([defect()], []).found == (False,)
    assert outcomes([], [finding(3), finding(4)]) == [(Outcome.FALSE_POSITIVE, ())] * 2
