"""`reviewer eval` through the real CLI in a subprocess, against scripted model servers: the
harness is proven, not a model. A server that answers the labels scores recall and precision 1
(the labels, the matcher and the real pipeline agree); one that answers nothing scores recall
0 with no false positive; one that flags random changed lines scores low precision. Each
report is validated against the published schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pytest_httpserver import HTTPServer

from reviewer.eval.report import report_schema
from tests.eval.scripted import label_answers, random_answers, read_cases, serve_scripted, silent
from tests.model_fakes import DIGEST, MODEL, requests_to

CORPUS = Path(__file__).resolve().parents[1] / "data" / "eval-corpus"
SHIPPED = Path(__file__).resolve().parents[2] / "src" / "reviewer" / "eval" / "corpus"


def reviewer_eval(
    server: HTTPServer, env: dict[str, str], *args: str, corpus: Path = CORPUS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "eval", "--corpus", str(corpus),
         "--ollama-url", server.url_for("").rstrip("/"), "--model", MODEL, *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def run_report(
    server: HTTPServer, env: dict[str, str], tmp_path: Path, corpus: Path = CORPUS
) -> dict[str, Any]:
    out = tmp_path / "eval.json"
    result = reviewer_eval(server, env, "--output", str(out), corpus=corpus)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(report, report_schema())
    return report


def test_answering_the_labels_scores_recall_and_precision_one(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, label_answers(read_cases(CORPUS)))
    report = run_report(server, env, tmp_path)
    overall = report["overall"]
    assert (overall["recall"], overall["precision"], overall["f1"]) == (1.0, 1.0, 1.0)
    assert overall["defects"] == overall["defects_found"] == 4
    assert overall["false_positives"] == 0 and overall["false_positive_rate"] == 0.0
    assert set(report["by_class"]) == {"injection", "removed-check", "path-traversal",
                                       "hardcoded-secret"}  # fmt: skip
    assert all(s["recall"] == 1.0 for s in report["by_class"].values())
    assert set(report["by_language"]) == {"go", "javascript", "python"}
    # The removed check is found by a LEFT finding, on the base file's numbers.
    removed = next(c for c in report["cases"] if c["id"] == "py-removed-admin-check")
    assert [(f["side"], f["line"], f["outcome"]) for f in removed["findings"]] == [
        ("LEFT", 23, "hit")
    ]


def test_the_report_says_what_was_run_and_what_it_cost(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, label_answers(read_cases(CORPUS)))
    report = run_report(server, env, tmp_path)
    assert report["model"] == {"backend": "ollama", "name": MODEL, "digest": DIGEST}
    assert report["tool"]["name"] == "reviewer" and report["tool"]["version"]
    assert report["options"]["cache"] is False and report["options"]["num_ctx"] > 0
    assert report["corpus"]["cases"] == 4 and report["corpus"]["clean_cases"] == 1
    assert len(report["corpus"]["sha256"]) == 64
    chats = len(requests_to(server, "/api/chat"))
    # Every chunk of every case was one model call; the fake counts 400 + 25 tokens each.
    assert report["cost"]["model_calls"] == chats == sum(
        c["cost"]["model_calls"] for c in report["cases"]
    )
    assert report["cost"]["prompt_tokens"] == 400 * chats
    assert report["cost"]["completion_tokens"] == 25 * chats
    assert all(c["cost"]["model_calls"] >= 1 for c in report["cases"])


def test_answering_nothing_scores_recall_zero_and_no_false_positive(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, silent)
    overall = run_report(server, env, tmp_path)["overall"]
    assert overall["recall"] == 0.0 and overall["f1"] == 0.0
    assert overall["findings"] == overall["false_positives"] == 0
    assert overall["precision"] is None  # no finding: no precision, not a perfect one
    assert overall["false_positive_rate"] == 0.0


def test_random_findings_score_low_precision(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, random_answers)
    report = run_report(server, env, tmp_path)
    overall = report["overall"]
    assert overall["findings"] >= 8
    assert overall["precision"] is not None and overall["precision"] < 0.5
    assert overall["false_positive_rate"] == 1.0  # the clean case was flagged
    assert overall["false_positives"] > overall["matched"]


def test_the_table_and_the_cost_line_are_printed(
    server: HTTPServer, env: dict[str, str]
) -> None:
    serve_scripted(server, label_answers(read_cases(CORPUS)))
    result = reviewer_eval(server, env)
    assert result.returncode == 0, result.stderr
    rows = {line.split("│")[1].strip(): line for line in result.stdout.splitlines()
            if line.count("│") > 5}  # fmt: skip
    assert {"overall", "class injection", "language go", "language python"} <= set(rows)
    assert "1.00" in rows["overall"]
    assert f"{MODEL} ({DIGEST[:12]}) on 4 cases" in result.stdout
    # CI (the env fixture sets CI=true): one progress line per case on stderr, no bar.
    assert result.stderr.count("reviewer: eval: case ") == 4


def test_a_model_failure_fails_closed_with_exit_3(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, lambda _: [])
    server.clear()  # preflight answers; the model is gone: /api/tags says so
    server.expect_request("/api/version").respond_with_json({"version": "0.5.1"})
    server.expect_request("/api/show", method="POST").respond_with_json(
        {"error": f"model '{MODEL}' not found"}, status=404
    )
    out = tmp_path / "eval.json"
    result = reviewer_eval(server, env, "--output", str(out), "--retries", "0")
    assert result.returncode == 3, result.stderr
    error = [ln for ln in result.stderr.splitlines() if ln.startswith("reviewer: error:")]
    assert len(error) == 1, result.stderr
    assert error[0].startswith("reviewer: error: case `go-clean-rename`: review not completed")
    assert error[0].endswith("the evaluation stopped")
    assert "Traceback" not in result.stderr
    assert not out.exists()  # no report from cases the model did not finish


def test_the_server_is_preflighted_once_per_evaluation_not_once_per_case(
    server: HTTPServer, env: dict[str, str]
) -> None:
    serve_scripted(server, silent)
    result = reviewer_eval(server, env, "--model-digest", DIGEST)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("reviewer: eval: case ") == 4  # every case was reviewed
    assert len(requests_to(server, "/api/chat")) >= 4
    # One preflight for the four cases: the version, the model and its (pinned) digest.
    preflight = ("/api/version", "/api/show", "/api/tags")
    assert [len(requests_to(server, path)) for path in preflight] == [1, 1, 1]


def test_a_pinned_digest_that_differs_fails_closed(
    server: HTTPServer, env: dict[str, str]
) -> None:
    serve_scripted(server, silent)
    result = reviewer_eval(server, env, "--model-digest", "0" * 64)
    assert result.returncode == 3, result.stderr
    assert "digest" in result.stderr and not requests_to(server, "/api/chat")


@pytest.mark.skipif(
    not SHIPPED.is_dir() or not any(SHIPPED.iterdir()), reason="no shipped corpus yet"
)
def test_the_shipped_corpus_agrees_with_the_matcher(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    """The proof that the shipped labels and the matcher agree: answering exactly the labels
    over the whole shipped corpus (the default, no --corpus) scores recall and precision 1."""
    serve_scripted(server, label_answers(read_cases(SHIPPED)))
    out = tmp_path / "eval.json"
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "eval", "--output", str(out),
         "--ollama-url", server.url_for("").rstrip("/"), "--model", MODEL],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(report, report_schema())
    missed = [c["id"] for c in report["cases"] if not all(d["found"] for d in c["defects"])]
    extra = [c["id"] for c in report["cases"] if any(f["outcome"] != "hit" for f in c["findings"])]
    assert (missed, extra) == ([], [])
    assert report["overall"]["recall"] == report["overall"]["precision"] == 1.0


def test_the_review_options_reach_the_model_and_the_report(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, silent)
    out = tmp_path / "eval.json"
    result = reviewer_eval(server, env, "--max-findings", "1", "--num-predict", "512",
                           "--output", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr
    bodies = [json.loads(r.get_data()) for r in requests_to(server, "/api/chat")]
    assert bodies and all(b["format"]["properties"]["findings"]["maxItems"] == 1 for b in bodies)
    assert all(b["options"]["num_predict"] == 512 for b in bodies)
    options = json.loads(out.read_text(encoding="utf-8"))["options"]
    assert (options["max_findings"], options["num_predict"]) == (1, 512)


def test_the_cache_is_off_unless_asked_for(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, silent)
    for _ in range(2):
        assert reviewer_eval(server, env).returncode == 0
    chats = len(requests_to(server, "/api/chat"))
    assert chats == 8  # 4 cases, twice: no answer was reused
    for _ in range(2):
        assert reviewer_eval(server, env, "--cache").returncode == 0
    assert len(requests_to(server, "/api/chat")) == chats + 4  # the second --cache run reused


def test_an_output_that_cannot_be_written_is_refused_before_any_model_call(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    serve_scripted(server, silent)
    result = reviewer_eval(server, env, "--output", str(tmp_path / "missing-dir" / "eval.json"))
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[0].startswith(
        f"reviewer: error: cannot write the evaluation report {tmp_path / 'missing-dir'}"
    )
    assert not server.log


def test_findings_outside_the_lines_shown_are_dropped_and_counted(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    """The real validation runs: a finding on a line the chunk did not show as changed never
    reaches the matcher (no hit, no false positive), and the report says it was dropped."""
    serve_scripted(server, lambda files: [
        {**random_answers(files)[0], "line": 9999}
    ])  # fmt: skip
    out = tmp_path / "eval.json"
    result = reviewer_eval(server, env, "--output", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [c["findings_dropped"] for c in report["cases"]] == [1, 1, 1, 1]
    assert report["overall"]["findings"] == 0
    assert "4 findings dropped outside the lines shown" in result.stdout
