"""`reviewer eval` as one readable sequence: load the corpus, build every case as a git
repository and plan its review (so a bad label fails before any model time is spent), then
review each case with the real loop of `reviewer run` (the server preflighted once for the
whole run) and match its findings to the labels."""

from __future__ import annotations

import io
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from reviewer import __version__
from reviewer.backends import check_model_arguments, make_backend
from reviewer.backends.pool import ServerPool
from reviewer.errors import ExitCode, ModelError
from reviewer.eval.corpus import Case, Corpus
from reviewer.eval.match import TOLERANCE, match_case
from reviewer.eval.progress import EvalProgress
from reviewer.eval.repo import build_repo, check_labels
from reviewer.eval.report import (
    CaseResult,
    CorpusInfo,
    Cost,
    DefectResult,
    EvalReport,
    FindingResult,
)
from reviewer.eval.score import by_class, by_language, scores, total_cost
from reviewer.eval.server import PreflightOnce
from reviewer.findings.verdict import verdict
from reviewer.models import FindingsDocument, ModelIdentity, ReviewPlan, ToolInfo
from reviewer.plan.build import build_plan
from reviewer.review.interrupt import release
from reviewer.review.loop import review
from reviewer.settings.slices import DiffSettings, ModelSettings, ReviewSettings


@dataclass(frozen=True)
class PlannedCase:
    case: Case
    plan: ReviewPlan


def evaluate(corpus: Corpus, model: ModelSettings, settings: ReviewSettings) -> EvalReport:
    """Review every case of the corpus and score the findings. A model-side failure in any
    case stops the run with a ModelError (exit 3, as `reviewer run`): a report built on
    cases the model did not finish would understate what it misses."""
    check_model_arguments(model)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reviewer-eval-") as scratch:
        planned = [_plan(case, Path(scratch) / case.id, model) for case in corpus.cases]
        # Every server given (the cases' chunks spread over them), each preflighted once.
        pool = ServerPool.open(model, make=lambda server: PreflightOnce(make_backend(server)))
        try:
            results, digest = _review_all(planned, model, settings, pool)
        finally:
            pool.close()
    return EvalReport(
        tool=ToolInfo(version=__version__),
        model=ModelIdentity(backend=model.backend.value, name=model.model, digest=digest),
        options=_options(model, settings),
        corpus=_corpus_info(corpus),
        tolerance=TOLERANCE,
        cost=total_cost((r.cost for r in results), time.monotonic() - started),
        overall=scores(results),
        by_class=by_class(results),
        by_language=by_language(results),
        cases=tuple(results),
    )


def _plan(case: Case, directory: Path, model: ModelSettings) -> PlannedCase:
    base, head = build_repo(case, directory)
    plan = build_plan(
        DiffSettings(repo=directory, base=base, head=head),
        environ={},  # the case's own range: nothing the CI environment says applies
        num_ctx=model.num_ctx,
        num_predict=model.num_predict,
    )
    check_labels(case, plan)
    return PlannedCase(case, plan)


def _review_all(
    planned: list[PlannedCase],
    model: ModelSettings,
    settings: ReviewSettings,
    backend: ServerPool,
) -> tuple[list[CaseResult], str | None]:
    results: list[CaseResult] = []
    digest: str | None = None
    with EvalProgress(len(planned)) as progress:
        for item in planned:
            progress.starting(item.case.id)
            doc = _review_case(item, model, settings, backend)
            digest = digest or doc.model.digest
            results.append(case_result(item.case, doc))
            progress.finished(item.case.id, len(doc.findings))
    return results, digest


def _review_case(
    item: PlannedCase, model: ModelSettings, settings: ReviewSettings, backend: ServerPool
) -> FindingsDocument:
    """One case through the review loop. Its own progress lines and summary are kept back (the
    eval shows its own); when the review is not complete, its reason and hint are raised."""
    said = io.StringIO()
    doc = review(model, item.plan, settings, backend=backend, stream=said)
    release()  # the loop holds signals until its document is safe; this one is
    if verdict(doc, None, optional=False) is not ExitCode.OK:
        reason = doc.errors[0].message if doc.errors else doc.status.value
        lines = said.getvalue().splitlines()
        hint = next((ln.removeprefix("hint: ") for ln in lines if ln.startswith("hint: ")), None)
        kind = doc.errors[0].kind if doc.errors else "model"
        raise ModelError(
            f"case `{item.case.id}`: review not completed ({doc.status.value}): {reason}; "
            "the evaluation stopped",
            hint,
            kind=kind,
        )
    return doc


def case_result(case: Case, doc: FindingsDocument) -> CaseResult:
    """One reviewed case: its findings matched to its labels, and what it cost."""
    matched = match_case(case.label.defects, doc.findings)
    s = doc.stats
    return CaseResult(
        id=case.id,
        summary=case.label.summary,
        language=case.label.language,
        kind=case.label.kind,
        cost=Cost(
            duration_s=s.duration_s,
            model_calls=s.model_calls,
            chunks=s.chunks,
            prompt_tokens=s.prompt_tokens,
            completion_tokens=s.completion_tokens,
        ),
        defects=tuple(
            DefectResult(
                defect_class=d.defect_class, path=d.path, side=d.side, lines=d.lines, found=found
            )
            for d, found in zip(case.label.defects, matched.found, strict=True)
        ),
        findings=tuple(
            FindingResult(
                path=f.path,
                side=f.side,
                line=f.line,
                end_line=f.end_line,
                severity=f.severity,
                category=f.category,
                title=f.title,
                outcome=m.outcome,
                defects=m.defects,
            )
            for f, m in zip(doc.findings, matched.findings, strict=True)
        ),
        findings_dropped=s.findings_dropped,
    )


Option = str | int | float | bool | None


def _options(model: ModelSettings, settings: ReviewSettings) -> dict[str, Option]:
    """What shapes the answers, so two reports can be compared like for like."""
    return {
        "backend": model.backend.value,
        "base_url": model.base_url,
        "num_ctx": model.num_ctx,
        "num_predict": model.num_predict,
        "seed": model.seed,
        "timeout": model.timeout,
        "retries": model.retries,
        "model_digest_pinned": model.model_digest,
        "filter_mode": settings.filter_mode.value,
        "max_findings": settings.max_findings,
        "cache": not settings.no_cache,
    }


def _corpus_info(corpus: Corpus) -> CorpusInfo:
    labels = [c.label for c in corpus.cases]
    return CorpusInfo(
        path=str(corpus.root),
        sha256=corpus.sha256,
        cases=len(labels),
        defect_cases=sum(label.kind == "defect" for label in labels),
        clean_cases=sum(label.kind == "clean" for label in labels),
        defects=sum(len(label.defects) for label in labels),
    )
