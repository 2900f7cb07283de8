"""Dropped findings are explained (issue 15): the run's closing line counts them by reason, the
document keeps the counts, and --debug shows each dropped finding and why and the raw answer of
an invalid one, escaped and bounded. Through the real CLI in a subprocess against a fake
Ollama."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.cli.test_cli_run import common, diff_file, reviewer  # noqa: F401 - the fixture
from tests.model_fakes import answer, finding, serve_ollama_chat, serve_ollama_preflight

INVALID = '{"findings": "not a list \x1b[2J ::error::forged' + "x" * 5000


def _run(server: HTTPServer, env: dict[str, str], diff: Path, tmp_path: Path, *extra: str):  # type: ignore[no-untyped-def]
    serve_ollama_preflight(server)
    kept = finding(line=2, title="Kept")
    serve_ollama_chat(server, [INVALID, answer(
        kept,
        finding(path="src/other.py", title="Elsewhere"),
        finding(line=2, end_line=4, title="Reaches\x1b[31m red"),  # lines 2-3 added, 4 is not
        finding(line=3, end_line=2, title="Backwards"),
        finding(line=9, title="Past the end"),
        finding(path="../etc/passwd", title="Escapes"),
    )])
    out = tmp_path / "findings.json"
    proc = reviewer([*common(server, diff, out), *extra], env, tmp_path)
    return proc, json.loads(out.read_text())


def test_the_closing_line_and_the_document_count_dropped_findings_by_reason(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path  # noqa: F811
) -> None:
    proc, doc = _run(server, env, diff_file, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [f["title"] for f in doc["findings"]] == ["Kept"]
    assert doc["stats"]["findings_dropped"] == 5
    assert doc["stats"]["findings_dropped_by"] == {
        "bad_range": 1, "line_not_changed": 2, "path_not_in_chunk": 1, "unsafe_path": 1,
    }
    assert "1 finding (1 high), 5 dropped (1 with an impossible line range, 2 not on lines the chunk changed, " in proc.stderr
    assert "1 naming a file not in the chunk, 1 naming a path outside the repository)" in proc.stderr
    assert "debug:" not in proc.stderr  # only with --debug


def test_debug_shows_each_dropped_finding_and_the_invalid_answer_escaped_and_bounded(
    server: HTTPServer, env: dict[str, str], diff_file: Path, tmp_path: Path  # noqa: F811
) -> None:
    proc, _ = _run(server, env, diff_file, tmp_path, "--debug")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    dropped = [line for line in lines if line.startswith("debug: dropped a finding: ")]
    assert len(dropped) == 5
    assert any("src/app.py:2-4 (new) 'Reaches\\x1b[31m red': not on lines the chunk changed" in line for line in dropped)
    assert any("src/other.py:2 (new) 'Elsewhere': naming a file not in the chunk" in line for line in dropped)
    assert any("../etc/passwd:2 (new) 'Escapes': naming a path outside the repository" in line for line in dropped)
    invalid = [line for line in lines if line.startswith("debug: invalid answer (")]
    assert len(invalid) == 1
    assert "\\x1b[2J" in invalid[0] and len(invalid[0]) < 2300  # escaped, cut at 2,000
    assert "\x1b" not in proc.stderr
    assert not any(line.startswith("::") for line in lines)
