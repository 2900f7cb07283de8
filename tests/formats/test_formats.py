"""Every output format, checked against what its consumer expects."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reviewer.errors import UsageError
from reviewer.formats import FORMAT_NAMES, get_format, render
from reviewer.formats.github import escape_data, escape_property
from reviewer.models import FindingsDocument, Status
from tests.formats.format_docs import make_document
from tests.markdown_html import seen

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-2.1.0.json"


@pytest.mark.parametrize("name", FORMAT_NAMES)
@pytest.mark.parametrize("status", list(Status))
def test_every_format_renders_every_status(name: str, status: Status) -> None:
    text = render(make_document(status), name)
    assert text.endswith("\n") and get_format(name.upper()).name == name
    empty = render(make_document(status, findings=()), name)
    assert isinstance(empty, str)


def test_unknown_format_names_the_valid_ones(document: FindingsDocument) -> None:
    with pytest.raises(UsageError) as e:
        render(document, "xml")
    assert "xml" in e.value.message and all(n in (e.value.hint or "") for n in FORMAT_NAMES)


def test_json_is_the_document(document: FindingsDocument) -> None:
    assert FindingsDocument.model_validate_json(render(document, "json")) == document


def test_sarif_is_valid_sarif_2_1_0_for_code_scanning(document: FindingsDocument) -> None:
    log = json.loads(render(document, "sarif"))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "reviewer" and driver["version"] == "0.1.0"
    assert driver["fullName"] == "reviewer-ci 0.1.0" and driver["semanticVersion"] == "0.1.0"
    # The old informationUri pointed at another project's PyPI page; no link is better than one
    # to a page someone else controls.
    assert "informationUri" not in driver and "pypi.org" not in json.dumps(log)
    rule_ids = [r["id"] for r in driver["rules"]]
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    for result in results:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
    first = results[0]
    assert first["ruleId"] == "reviewer/security"
    assert first["partialFingerprints"] == {"reviewer/v1": "fp-1"}
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 5, "endLine": 6}
    assert first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/app.py"
    assert first["properties"]["security-severity"] == "8.0"


def test_sarif_reports_an_incomplete_review(document: FindingsDocument) -> None:
    log = json.loads(render(make_document(Status.PARTIAL), "sarif"))
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert "model_timeout" in invocation["toolExecutionNotifications"][0]["message"]["text"]


def test_rdjson_and_rdjsonl(document: FindingsDocument) -> None:
    result = json.loads(render(document, "rdjson"))
    assert result["source"] == {"name": "reviewer"}
    first = result["diagnostics"][0]
    assert first["severity"] == "ERROR" and first["location"]["path"] == "src/app.py"
    assert first["location"]["range"] == {"start": {"line": 5}, "end": {"line": 6}}
    assert first["suggestions"] == [{"range": first["location"]["range"], "text": "call([cmd])\n"}]
    assert [d["severity"] for d in result["diagnostics"]] == ["ERROR", "WARNING", "INFO"]
    lines = render(document, "rdjsonl").splitlines()
    assert [json.loads(line) for line in lines] == result["diagnostics"]


def test_github_escaping_matches_actions_toolkit() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_github_workflow_commands(document: FindingsDocument) -> None:
    lines = render(document, "github").splitlines()
    assert lines[0] == (
        "::error file=src/app.py,line=5,endLine=6,title=[high] Shell injection%2C again%3A 100%25::"
        "Line one%0Aline two with 50%25 and a colon: here%0D"
    )
    assert lines[2].startswith("::notice file=docs/a b%2Cc.md,line=3,endLine=3,")
    assert all(line.startswith("::") for line in lines) and len(lines) == 3
    partial = render(make_document(Status.PARTIAL), "github").splitlines()
    assert partial[0].startswith("::warning title=reviewer::Partial review")


def test_text_is_plain_without_a_tty(document: FindingsDocument) -> None:
    text = render(document, "text")
    assert "\x1b[" not in text
    assert "Review complete." in text and "src/app.py:5-6" in text and "Shell injection" in text
    assert "3 findings (0 critical, 1 high, 1 medium, 1 low, 0 info)" in text
    skipped = render(make_document(Status.SKIPPED), "text")
    assert "Review skipped: the model was not run (model_unreachable: no server at" in skipped


def test_text_shows_each_findings_message_and_suggestion_under_its_heading(document: FindingsDocument) -> None:
    lines = render(document, "text").splitlines()
    at = lines.index("high     src/app.py:5-6  [security]  Shell injection, again: 100%")
    assert lines[at + 1 : at + 5] == [
        "    Line one",
        "    line two with 50% and a colon: here\\x0d",  # the carriage return shown, not obeyed
        "    Suggested replacement:",
        "        call([cmd])",
    ]


def test_text_keeps_a_hostile_message_inert_on_a_terminal() -> None:
    from reviewer.models import Finding

    hostile = "ok\n::error::forged\n\x1b[2Jwiped\naws_secret_access_key = AKIAIOSFODNN7EXAMPLE"
    doc = make_document(findings=(Finding.model_validate({
        "path": "a.py", "line": 1, "end_line": 1, "severity": "info", "category": "bug",
        "title": "t", "message": hostile, "suggestion": "x = 1\n\x1b]0;title\x07", "fingerprint": "f",
    }),))
    text = render(doc, "text")
    assert "\x1b" not in text and "\x07" not in text
    assert not any(line.lstrip().startswith("::error") for line in text.splitlines())
    assert "AKIAIOSFODNN7EXAMPLE" not in text and "wiped" in text and "x = 1" in text


def test_text_does_not_read_model_output_as_markup() -> None:
    from reviewer.models import Finding

    doc = make_document(findings=(Finding.model_validate({
        "path": "a.py", "line": 1, "end_line": 1, "severity": "info", "category": "style",
        "title": "[bold red]x[/bold red]", "message": "m", "fingerprint": "f",
    }),))
    assert "[bold red]x[/bold red]" in render(doc, "text")


def test_markdown_is_the_summary_and_says_when_partial() -> None:
    text = render(make_document(Status.PARTIAL), "markdown")
    assert text.startswith("<!-- reviewer:summary -->")
    shown = seen(text)
    assert "Status: Partial review: some of the diff was not reviewed (1 of 2 chunks failed" in shown
    assert "package-lock.json: lockfile" in shown and "Off by one [i]" in shown


def _left_document() -> FindingsDocument:
    from reviewer.models import Category, Finding, Severity

    removed = Finding(
        path="app/views.py", line=12, end_line=13, side="LEFT", head_line=11,
        severity=Severity.CRITICAL, category=Category.SECURITY,
        title="Permission check removed", message="Anyone can delete users now.",
        suggestion="if not user.is_admin:\n    raise Forbidden()", fingerprint="fp-left",
    )
    return make_document(findings=(removed,))


@pytest.mark.parametrize("name", ["text", "markdown"])
def test_people_formats_say_a_left_finding_is_on_removed_old_file_lines(name: str) -> None:
    text = render(_left_document(), name)
    assert "app/views.py (removed lines 12-13 of the old file)" in text
    assert "app/views.py:12" not in text  # never a head-file line number for a removed line


def test_json_keeps_the_side_and_old_numbers() -> None:
    (finding,) = json.loads(render(_left_document(), "json"))["findings"]
    assert (finding["side"], finding["line"], finding["end_line"]) == ("LEFT", 12, 13)
    assert finding["head_line"] == 11


def test_sarif_points_a_left_finding_at_the_nearest_head_line_with_its_old_lines() -> None:
    log = json.loads(render(_left_document(), "sarif"))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(log)
    (result,) = log["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 11, "endLine": 11}
    assert result["message"]["text"].startswith(
        "Permission check removed (removed lines 12-13 of the old file)"
    )
    props = result["properties"]
    assert (props["side"], props["oldStartLine"], props["oldEndLine"]) == ("LEFT", 12, 13)


def test_rdjson_points_a_left_finding_at_the_nearest_head_line_without_a_suggestion() -> None:
    (diag,) = json.loads(render(_left_document(), "rdjson"))["diagnostics"]
    assert diag["location"]["range"] == {"start": {"line": 11}, "end": {"line": 11}}
    assert "(removed lines 12-13 of the old file)" in diag["message"]
    assert "suggestions" not in diag  # it would replace head line 11, other code
    assert [json.loads(x) for x in render(_left_document(), "rdjsonl").splitlines()] == [diag]


def test_github_annotation_of_a_left_finding_names_the_removed_lines() -> None:
    (line,) = render(_left_document(), "github").splitlines()
    assert line.startswith(
        "::error file=app/views.py,line=11,endLine=11,title=[critical] Permission check removed "
        "(removed lines 12-13 of the old file)::"
    )


def test_markdown_never_offers_a_left_finding_as_an_applicable_suggestion() -> None:
    from reviewer.post.bodies import inline_body

    (finding,) = _left_document().findings
    body = inline_body(finding)
    assert "```suggestion" not in body
    assert "Suggested replacement for removed lines 12-13 of the old file:" in body
