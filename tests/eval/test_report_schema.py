"""The evaluation report's published JSON Schema: `reviewer schema --eval` prints it, and the
copy in docs/ is the same, so a site can validate a filed report without installing reviewer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reviewer.eval.report import report_schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "eval-report.schema.json"


def test_schema_eval_prints_the_report_schema_and_docs_holds_the_same() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "schema", "--eval"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    printed = json.loads(result.stdout)
    assert printed == report_schema()
    assert printed["title"] == "EvalReport"
    assert json.loads(DOCS.read_text(encoding="utf-8")) == printed, (
        "docs/eval-report.schema.json is stale: `reviewer schema --eval > "
        "docs/eval-report.schema.json`"
    )


def test_schema_without_eval_is_still_the_findings_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "schema"], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout)["title"] == "FindingsDocument"
