"""The evaluation report: what `reviewer eval --output` writes, a site's evidence of how well a
model reviewed a corpus, and its published JSON Schema (`reviewer schema eval`)."""

from __future__ import annotations

from typing import Any, Literal

from reviewer.eval.match import Outcome
from reviewer.models import Category, ModelIdentity, Severity, Strict, ToolInfo


class Scores(Strict):
    """The scores of a group of cases (all, one defect class, one language). A ratio with no
    denominator (no defect, no finding, no clean case) is null, not 0."""

    cases: int
    defects: int
    defects_found: int
    findings: int
    matched: int  # hits and duplicates
    duplicates: int
    false_positives: int
    recall: float | None  # defects_found / defects
    precision: float | None  # matched / findings
    f1: float | None
    clean_cases: int
    clean_cases_flagged: int  # clean cases with at least one finding
    false_positive_rate: float | None  # clean_cases_flagged / clean_cases
    findings_per_clean_case: float | None


class Cost(Strict):
    """What the review of a case (or of all of them) cost, as the model server reported it."""

    duration_s: float
    model_calls: int
    chunks: int
    prompt_tokens: int
    completion_tokens: int


class DefectResult(Strict):
    defect_class: str  # case.toml's `class`
    path: str
    side: Literal["new", "old"]
    lines: tuple[int, int]
    found: bool


class FindingResult(Strict):
    path: str
    side: Literal["RIGHT", "LEFT"]
    line: int
    end_line: int
    severity: Severity
    category: Category
    title: str
    outcome: Outcome
    defects: tuple[int, ...]  # indexes into the case's defects


class CaseResult(Strict):
    id: str
    summary: str
    language: str
    kind: Literal["defect", "clean"]
    cost: Cost
    defects: tuple[DefectResult, ...]
    findings: tuple[FindingResult, ...]
    findings_dropped: int  # answers the validation refused (outside the chunk's lines)


class CorpusInfo(Strict):
    path: str
    sha256: str  # over the cases' files: docs/evaluation.md says exactly how
    cases: int
    defect_cases: int
    clean_cases: int
    defects: int


class EvalReport(Strict):
    schema_version: Literal[1] = 1
    tool: ToolInfo
    model: ModelIdentity
    options: dict[str, str | int | float | bool | None]
    corpus: CorpusInfo
    tolerance: int  # lines each way (eval.match.TOLERANCE)
    cost: Cost
    overall: Scores
    by_class: dict[str, Scores]
    by_language: dict[str, Scores]
    cases: tuple[CaseResult, ...]


def report_schema() -> dict[str, Any]:
    """The report's JSON Schema (draft 2020-12), as `reviewer schema eval` prints it."""
    schema = EvalReport.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
