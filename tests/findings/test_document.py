"""The findings document: atomic writes, reading back, the published schema, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from reviewer.cli.app import app
from reviewer.errors import ExitCode, FindingsDocumentError
from reviewer.findings.document import (
    DocumentWriteError,
    document_schema,
    load_document,
    write_document,
)
from reviewer.findings.verdict import verdict
from reviewer.models import (
    Category,
    Coverage,
    ErrorEntry,
    FileCoverage,
    Finding,
    FindingsDocument,
    ModelInfo,
    NotSeen,
    Severity,
    Status,
    ToolInfo,
)


def doc(status: Status = Status.COMPLETE, *severities: Severity) -> FindingsDocument:
    findings = tuple(
        Finding(
            path="a.py",
            line=i + 1,
            end_line=i + 1,
            severity=sev,
            category=Category.BUG,
            title="t",
            message="m",
            fingerprint=f"{i:032x}",
        )
        for i, sev in enumerate(severities)
    )
    return FindingsDocument(
        status=status,
        tool=ToolInfo(version="0.1.0"),
        model=ModelInfo(backend="ollama", name="m"),
        findings=findings,
        errors=(ErrorEntry(kind="timeout", message="x"),) if status is not Status.COMPLETE else (),
    )


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "findings.json"
    original = doc(Status.PARTIAL, Severity.HIGH)
    write_document(original, target)
    assert load_document(target) == original
    assert json.loads(target.read_text())["schema_version"] == 3
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]  # no temp file left


def test_terminal_controls_are_escaped_in_the_file_and_load_back_equal(tmp_path: Path) -> None:
    target = tmp_path / "findings.json"
    hostile = "a\x9b31m\u202eb\u2028c\x7f"
    original = doc(Status.COMPLETE, Severity.LOW)
    original = original.model_copy(
        update={"findings": (original.findings[0].model_copy(update={"title": hostile}),)}
    )
    write_document(original, target)
    raw = target.read_bytes()
    for char in ("\x9b", "\u202e", "\u2028", "\x7f"):
        assert char.encode("utf-8") not in raw
    assert load_document(target).findings[0].title == hostile


def test_overwrite_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "findings.json"
    target.write_text("x" * 100_000)
    write_document(doc(), target)
    assert load_document(target).status is Status.COMPLETE


def test_read_only_directory_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(DocumentWriteError) as e:
            write_document(doc(), ro / "findings.json")
        assert "cannot write the findings document" in e.value.message
        assert e.value.hint
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentWriteError):
        write_document(doc(), tmp_path / "nope" / "findings.json")


def test_failed_rename_cleans_up_its_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The rename fails after the data was written (as on a full disk or a vanished
    # directory): the old document and the directory are as they were, no temp file left.
    import errno

    import reviewer.findings.document as d

    target = tmp_path / "findings.json"
    target.write_text("old\n")

    def fail(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(d.os, "replace", fail)
    with pytest.raises(DocumentWriteError, match="No space left on device"):
        write_document(doc(), target)
    assert [p.name for p in tmp_path.iterdir()] == ["findings.json"]
    assert target.read_text() == "old\n"


def test_crash_before_rename_leaves_the_old_document_untouched(tmp_path: Path) -> None:
    # A child process dies right before the rename: the old document is still whole.
    target = tmp_path / "findings.json"
    write_document(doc(Status.COMPLETE, Severity.LOW), target)
    before = target.read_bytes()
    child = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "import reviewer.findings.document as d\n"
        "def boom(*a, **k): os._exit(9)\n"
        "d.os.replace = boom\n"
        "from reviewer.models import *\n"
        f"d.write_document(FindingsDocument(status=Status.FAILED, tool=ToolInfo(version='x'),"
        f" model=ModelInfo(backend='o', name='m')), Path({str(target)!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", child], check=False)
    assert proc.returncode == 9
    assert target.read_bytes() == before


@pytest.mark.parametrize("content", ["", "{", "[]", '{"schema_version": 4}'])
def test_load_rejects_non_documents(tmp_path: Path, content: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(content)
    with pytest.raises(FindingsDocumentError):
        load_document(path)


def test_load_rejects_extra_fields(tmp_path: Path) -> None:
    data = json.loads(doc().model_dump_json())
    data["surprise"] = 1
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FindingsDocumentError):
        load_document(path)


def test_schema_validates_real_documents_and_rejects_bad_ones() -> None:
    schema = document_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    good = json.loads(doc(Status.PARTIAL, Severity.CRITICAL, Severity.INFO).model_dump_json())
    jsonschema.validate(good, schema)
    bad = {**good, "status": "done"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_schema_has_the_left_side_for_removed_lines() -> None:
    """A LEFT finding (old-file numbers, the head line it followed) is a valid document; a side
    GitHub does not know, or a head line below 1, is not."""
    schema = json.loads(CliRunner().invoke(app, ["schema"]).stdout)
    data = json.loads(doc(Status.COMPLETE, Severity.HIGH).model_dump_json())
    data["findings"][0].update(side="LEFT", head_line=3)
    jsonschema.validate(data, schema)
    assert FindingsDocument.model_validate(data).findings[0].side == "LEFT"
    for field, value in (("side", "MIDDLE"), ("side", "old"), ("head_line", 0)):
        bad = json.loads(json.dumps(data))
        bad["findings"][0][field] = value
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_schema_command_prints_the_schema() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(json.dumps(document_schema()))


@pytest.mark.parametrize(
    ("status", "optional", "fail_on", "severities", "expected"),
    [
        (Status.COMPLETE, False, None, (Severity.CRITICAL,), ExitCode.OK),
        (Status.COMPLETE, False, Severity.HIGH, (Severity.MEDIUM,), ExitCode.OK),
        (Status.COMPLETE, False, Severity.HIGH, (Severity.HIGH,), ExitCode.FINDINGS),
        (Status.COMPLETE, False, Severity.INFO, (Severity.INFO,), ExitCode.FINDINGS),
        (Status.PARTIAL, False, Severity.HIGH, (Severity.CRITICAL,), ExitCode.NOT_REVIEWED),
        (Status.FAILED, False, None, (), ExitCode.NOT_REVIEWED),
        (Status.PARTIAL, True, None, (Severity.CRITICAL,), ExitCode.OK),
        (Status.PARTIAL, True, Severity.LOW, (Severity.CRITICAL,), ExitCode.FINDINGS),
        (Status.SKIPPED, True, Severity.LOW, (), ExitCode.OK),
    ],
)
def test_exit_codes(
    status: Status,
    optional: bool,
    fail_on: Severity | None,
    severities: tuple[Severity, ...],
    expected: ExitCode,
) -> None:
    assert verdict(doc(status, *severities), fail_on, optional=optional) is expected


def _left_out(reason: str, policy: bool) -> Coverage:
    group = NotSeen(reason=reason, policy=policy, added=3)
    files = (FileCoverage(path="vendor/x.py", added=3, not_seen=(group,)),)
    return Coverage(
        added=3,
        added_policy=3 if policy else 0,
        added_unreviewed=0 if policy else 3,
        files_unreviewed=0 if policy else 1,
        files=files,
    )


@pytest.mark.parametrize(
    ("status", "optional", "reason", "policy", "expected"),
    [
        (Status.COMPLETE, False, "vendored", True, ExitCode.OK),
        (Status.PARTIAL, False, "vendored", False, ExitCode.NOT_REVIEWED),
        # LOCAL_LLM_OPTIONAL forgives a model that did not answer, not code left out.
        (Status.PARTIAL, True, "vendored", False, ExitCode.NOT_REVIEWED),
        (Status.PARTIAL, True, "chunk_failed", False, ExitCode.OK),
        (Status.SKIPPED, True, "vendored", False, ExitCode.OK),
    ],
)
def test_exit_codes_for_lines_left_out(
    status: Status, optional: bool, reason: str, policy: bool, expected: ExitCode
) -> None:
    document = doc(status).model_copy(update={"coverage": _left_out(reason, policy)})
    assert verdict(document, None, optional=optional) is expected


def test_the_schema_validates_a_document_with_its_accounting() -> None:
    schema = document_schema()
    document = doc(Status.PARTIAL).model_copy(update={"coverage": _left_out("binary", False)})
    good = json.loads(document.model_dump_json())
    jsonschema.validate(good, schema)
    good["coverage"]["files"][0]["not_seen"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(good, schema)
