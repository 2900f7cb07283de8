"""`--format codequality`: GitLab's Code Quality report, checked against a JSON Schema written
from GitLab's documentation (tests/data/gitlab-codequality.schema.json), through the real CLI
against a fake model and on hostile, partial and failed documents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pytest_httpserver import HTTPServer

from reviewer.formats import render
from reviewer.formats.codequality import DESCRIPTION_LIMIT, SEVERITIES
from reviewer.models import (
    Category,
    Coverage,
    ErrorEntry,
    FileCoverage,
    Finding,
    FindingsDocument,
    NotSeen,
    Severity,
    Status,
)
from reviewer.security import HIDDEN_RANGES, ZWSP
from tests.diff.gitrepo_helpers import GitRepo
from tests.formats.format_docs import make_document
from tests.model_fakes import answer, finding, serve_ollama_chat, serve_ollama_preflight

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "gitlab-codequality.schema.json"
PROJECT = Path(__file__).resolve().parents[2]


def report(document: FindingsDocument) -> list[dict[str, Any]]:
    """The report as GitLab reads it, after checking it against the schema and the rules the
    schema cannot say (unique fingerprints, no byte order mark)."""
    text = render(document, "codequality")
    return checked(text)


def checked(text: str) -> list[dict[str, Any]]:
    assert not text.startswith("\ufeff")  # GitLab's parser refuses a byte order mark
    entries: list[dict[str, Any]] = json.loads(text)
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(entries)
    fingerprints = [e["fingerprint"] for e in entries]
    assert len(set(fingerprints)) == len(fingerprints), fingerprints
    return entries


def one(**over: Any) -> Finding:
    values: dict[str, Any] = {
        "path": "src/app.py", "line": 4, "end_line": 4, "severity": Severity.HIGH,
        "category": Category.SECURITY, "title": "Hard-coded password",
        "message": "Read it from the environment.", "fingerprint": "a" * 32,
    }  # fmt: skip
    values.update(over)
    return Finding(**values)


# --- the schema itself ------------------------------------------------------------------------


def test_the_schema_accepts_gitlabs_own_example_and_refuses_what_the_docs_require() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))
    example = {
        "description": "'unused' is assigned a value but never used.",
        "check_name": "no-unused-vars", "fingerprint": "7815696ecbf1c96e6894b779456d330e",
        "severity": "minor", "location": {"path": "lib/index.js", "lines": {"begin": 42}},
    }  # fmt: skip
    validator.validate([example])
    by_position = {**example, "location": {"path": "a.js", "positions": {"begin": {"line": 3}}}}
    validator.validate([by_position])
    broken = [
        {k: v for k, v in example.items() if k != "fingerprint"},
        {**example, "severity": "high"},
        {**example, "location": {"path": "lib/index.js"}},  # no line
        {**example, "location": {"lines": {"begin": 42}}},  # no path
        {**example, "location": {"path": "a.js", "lines": {"begin": 0}}},
    ]
    for entry in broken:
        assert not validator.is_valid([entry]), entry
    assert not validator.is_valid(example)  # a single JSON array, not an object


# --- the mapping ------------------------------------------------------------------------------


def test_a_complete_review_maps_severity_check_name_fingerprint_and_location() -> None:
    entries = report(make_document())
    assert [e["severity"] for e in entries] == ["critical", "major", "minor"]  # high, medium, low
    first = entries[0]
    assert first["check_name"] == "reviewer/security" and first["fingerprint"] == "fp-1"
    assert first["location"] == {"path": "src/app.py", "lines": {"begin": 5, "end": 6}}
    assert first["description"].startswith("[high] Shell injection, again: 100%: Line one line")
    assert "\n" not in first["description"] and "\r" not in first["description"]
    assert entries[2]["location"]["path"] == "docs/a b,c.md"  # the path stays the path


def test_every_severity_has_its_own_gitlab_level_in_order() -> None:
    assert list(SEVERITIES.values()) == ["blocker", "critical", "major", "minor", "info"]
    findings = tuple(
        one(severity=s, fingerprint=f"fp-{s.value}", line=i + 1, end_line=i + 1)
        for i, s in enumerate(Severity)
    )
    entries = report(make_document(findings=findings))
    assert [e["severity"] for e in entries] == ["blocker", "critical", "major", "minor", "info"]
    assert [e["fingerprint"] for e in entries] == [f"fp-{s.value}" for s in Severity]


def test_an_empty_complete_review_is_an_empty_array() -> None:
    assert render(make_document(findings=()), "codequality") == "[]\n"


def test_two_findings_with_the_same_fingerprint_get_distinct_stable_ones() -> None:
    twins = (one(line=4, end_line=4), one(line=9, end_line=9), one(line=12, end_line=12))
    entries = report(make_document(findings=twins))
    assert entries[0]["fingerprint"] == "a" * 32
    assert len({e["fingerprint"] for e in entries}) == 3
    again = report(make_document(findings=twins))
    assert [e["fingerprint"] for e in entries] == [e["fingerprint"] for e in again]


def test_a_fingerprint_that_is_not_a_plain_id_is_replaced_by_its_hash() -> None:
    odd = one(fingerprint="<b>x</b>\u202e" + "z" * 300)
    (entry,) = report(make_document(findings=(odd,)))
    assert entry["fingerprint"].startswith("sha256-") and len(entry["fingerprint"]) == 39


def test_a_left_finding_points_at_its_head_line_and_names_the_removed_lines() -> None:
    removed = one(line=12, end_line=13, side="LEFT", head_line=11, severity=Severity.CRITICAL,
                  title="Permission check removed", message="Anyone can delete users now.")  # fmt: skip
    (entry,) = report(make_document(findings=(removed,)))
    assert entry["location"] == {"path": "src/app.py", "lines": {"begin": 11, "end": 11}}
    assert entry["severity"] == "blocker"
    assert entry["description"] == (
        "[critical] Permission check removed (removed lines 12-13 of the old file): "
        "Anyone can delete users now."
    )


# --- hostile text -----------------------------------------------------------------------------


def test_hostile_text_cannot_form_markup_or_hide_characters() -> None:
    message = (
        "<img src=x onerror=alert(1)> </script><script>steal()</script> <!-- hide --> "
        "[click](https://evil.example/x) ![pixel](http://evil.example/p.png) www.evil.example "
        "ghp_" + "A" * 36 + " \u202eevil\u202c zero\u200bwidth tag\U000e0041 bell\x07"
    )
    hostile = one(title="**bold** `code` <b>", message=message, path="src/\u202eapp.py")
    (entry,) = report(make_document(findings=(hostile,)))
    text = entry["description"]
    for opener in ("<img", "</script", "<script", "<!--", "<b>", "](", "://", "www."):
        assert opener not in text, opener
    # A zero-width space after each opener: the text reads the same, nothing can form.
    assert f"<{ZWSP}img" in text and f"]{ZWSP}(" in text and f":{ZWSP}//" in text
    assert "ghp_" + "A" * 36 not in text and "[REDACTED]" in text
    for raw in ("\u202e", "\u202c", "\U000e0041", "\x07"):
        assert raw not in text
    assert "\\u202e" in text and "\\U000e0041" in text and "\\x07" in text
    # The only hidden character in the report is our zero-width space.
    hidden = [c for c in text if any(lo <= ord(c) <= hi for lo, hi in HIDDEN_RANGES)]
    assert set(hidden) == {ZWSP}
    assert entry["location"]["path"] == "src/\\u202eapp.py"  # shown, not passed on


def test_the_json_text_itself_holds_no_raw_hidden_character() -> None:
    hostile = one(message="a\u202eb\u2028c", title="##[error] x")
    text = render(make_document(findings=(hostile,)), "codequality")
    assert "\u202e" not in text and "\u2028" not in text and "##[" not in text
    checked(text)


def test_a_100_kb_message_is_cut_to_a_bounded_description() -> None:
    huge = one(title="Long", message="x" * 100_000)
    (entry,) = report(make_document(findings=(huge,)))
    assert len(entry["description"]) == DESCRIPTION_LIMIT
    assert entry["description"].startswith("[high] Long: xxx") and entry["description"][-1] == "…"
    # Markup openers get a zero-width space each: the description stays within the limit.
    links = one(title="Links", message="<a " * 40_000)
    (entry,) = report(make_document(findings=(links,)))
    assert len(entry["description"]) <= DESCRIPTION_LIMIT and "<a" not in entry["description"]


# --- never claim a review that did not happen -------------------------------------------------


def partial_document() -> FindingsDocument:
    coverage = Coverage(
        files=(
            FileCoverage(path="src/app.py", added=10, added_seen=10),
            FileCoverage(path="src/big.py", added=900,
                         not_seen=(NotSeen(reason="chunk_failed", policy=False, added=900),)),
            FileCoverage(path="dist/app.min.js", added=1,
                         not_seen=(NotSeen(reason="minified", policy=True, added=1),)),
        ),
    )  # fmt: skip
    return make_document(Status.PARTIAL).model_copy(update={"coverage": coverage})


def test_a_partial_review_says_so_first_naming_the_unreviewed_files() -> None:
    entries = report(partial_document())
    status = entries[0]
    assert status["check_name"] == "reviewer/review-status" and status["severity"] == "major"
    assert status["description"].startswith(
        "reviewer: Partial review: some of the diff was not reviewed (1 of 2 chunks failed; "
        "model_timeout: chunk 1 timed out)."
    )
    assert "1 file not reviewed: src/big.py (chunk_failed)." in status["description"]
    assert "app.min.js" not in status["description"]  # left out by policy, not unreviewed
    assert status["location"] == {"path": "src/big.py", "lines": {"begin": 1, "end": 1}}
    assert [e["fingerprint"] for e in entries[1:]] == ["fp-1", "fp-3", "fp-2"]
    assert report(partial_document())[0]["fingerprint"] == status["fingerprint"]  # stable


def test_the_status_fingerprint_changes_with_the_head_so_the_widget_shows_it_as_new() -> None:
    first = report(partial_document())[0]["fingerprint"]
    other = partial_document().model_copy(update={"head": "e" * 40})
    assert report(other)[0]["fingerprint"] != first


@pytest.mark.parametrize("status", [Status.FAILED, Status.SKIPPED])
def test_a_review_that_did_not_run_is_a_critical_entry_even_without_findings(
    status: Status,
) -> None:
    document = make_document(status, findings=()).model_copy(
        update={"errors": (ErrorEntry(kind="model_unreachable", message="<b>no server</b>"),)}
    )
    (entry,) = report(document)
    assert entry["severity"] == "critical" and entry["check_name"] == "reviewer/review-status"
    word = "failed" if status is Status.FAILED else "skipped"
    assert entry["description"].startswith(f"reviewer: Review {word}")
    assert f"<{ZWSP}b>no server<{ZWSP}/b>" in entry["description"]
    assert entry["location"]["path"] == ".gitlab-ci.yml"  # no file named: where the job is


def test_many_unreviewed_files_are_named_up_to_ten_and_counted() -> None:
    files = tuple(
        FileCoverage(path=f"f{i:03}.py", added=1,
                     not_seen=(NotSeen(reason="too_large", policy=False, added=1),))
        for i in range(40)
    )  # fmt: skip
    document = make_document(Status.PARTIAL).model_copy(update={"coverage": Coverage(files=files)})
    text = report(document)[0]["description"]
    assert "40 files not reviewed: f000.py (too_large)" in text and "... and 30 more" in text
    assert "f010.py" not in text and len(text) <= DESCRIPTION_LIMIT


# --- the real CLI -----------------------------------------------------------------------------

HEAD_APP = "def login(user):\n    password = 'hunter2'\n    return check(user, password)\n"


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", *args],
        env={**env, "PYTHONPATH": str(PROJECT / "src")}, cwd=cwd, capture_output=True,
        text=True, timeout=120, check=False,
    )  # fmt: skip


def review_args(server: HTTPServer, tmp_path: Path) -> list[str]:
    """`reviewer run` options for a real one-commit pull request (a hard-coded password added)
    against the fake Ollama `server`, whose preflight is served."""
    repo = GitRepo(tmp_path / "repo")
    repo.write("src/app.py", "def login(user):\n    return check(user)\n")
    base = repo.commit("base")
    repo.write("src/app.py", HEAD_APP)
    head = repo.commit("head")
    serve_ollama_preflight(server)
    return ["--repo", str(repo.root), "--base", base, "--head", head, "--no-cache",
            "--ollama-url", server.url_for("/").rstrip("/"), "--timeout", "10"]  # fmt: skip


def test_reviewer_run_writes_a_valid_report_and_reviewer_report_converts_the_document(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    common = review_args(server, tmp_path)
    said = finding(path="src/app.py", line=2, severity="critical", category="security",
                   title="Hard-coded password", message="<script>x()</script> [a](http://e.x)")  # fmt: skip
    serve_ollama_chat(server, answer(said))
    document = tmp_path / "findings.json"

    proc = run_cli("run", *common, "--format", "codequality", "--output", str(document),
                   env=env, cwd=tmp_path)  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    (entry,) = checked(proc.stdout)
    assert entry["severity"] == "blocker" and entry["check_name"] == "reviewer/security"
    assert entry["location"] == {"path": "src/app.py", "lines": {"begin": 2, "end": 2}}
    assert "<script" not in entry["description"] and "://" not in entry["description"]
    saved = FindingsDocument.model_validate_json(document.read_text())
    assert entry["fingerprint"] == saved.findings[0].fingerprint  # ours, stable across runs

    out = tmp_path / "gl-code-quality-report.json"
    converted = run_cli("report", "--findings", str(document), "--format", "codequality",
                        "--output", str(out), env=env, cwd=tmp_path)  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    assert checked(out.read_text()) == [entry]


def test_help_lists_codequality_for_run_and_report(env: dict[str, str], tmp_path: Path) -> None:
    for command in ("run", "report"):
        proc = run_cli(command, "--help", env={**env, "COLUMNS": "200"}, cwd=tmp_path)
        assert proc.returncode == 0 and "codequality" in proc.stdout, proc.stdout


def test_a_run_whose_model_fails_writes_a_report_that_says_the_review_failed(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    args = [*review_args(server, tmp_path), "--retries", "0", "--format", "codequality"]
    server.expect_request("/api/chat", method="POST").respond_with_data("boom", status=500)

    proc = run_cli("run", *args, env=env, cwd=tmp_path)

    assert proc.returncode != 0  # the run fails closed, and the report says why
    (entry,) = checked(proc.stdout)
    assert entry["check_name"] == "reviewer/review-status" and entry["severity"] == "critical"
    assert entry["description"].startswith("reviewer: Review failed")
    assert "1 file not reviewed: src/app.py (chunk_failed)" in entry["description"]
    assert entry["location"]["path"] == "src/app.py"
