"""The baseline of accepted findings (issue 15): read from the base revision, so a pull request
cannot accept its own findings; an accepted finding is kept in the document's `accepted`, never
reported, posted or gated on; `reviewer report --format baseline` writes the file. Real git
repositories, the real CLI in a subprocess, a fake Ollama."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from reviewer.errors import ConfigError
from reviewer.findings.answer import fingerprint
from reviewer.formats import render
from reviewer.models import Category, FindingsDocument
from reviewer.plan.baseline import parse_baseline
from tests.diff.gitrepo_helpers import GitRepo
from tests.model_fakes import answer, finding, serve_ollama_chat, serve_ollama_preflight

BASE_APP = "def div(a, b):\n    pass\n"
HEAD_APP = "def div(a, b):\n    return a / b\n\n\ndef rem(a, b):\n    return a % b\n"
DIV = finding(line=2, title="Division by zero", severity="high")
REM = finding(line=6, title="Modulo by zero", severity="medium")
DIV_FP = fingerprint("src/app.py", Category.BUG, "Division by zero", ["    return a / b"])
REM_FP = fingerprint("src/app.py", Category.BUG, "Modulo by zero", ["    return a % b"])


def repo(tmp_path: Path, base_files: dict[str, str], head_files: dict[str, str]) -> tuple[GitRepo, str]:
    r = GitRepo(tmp_path / "repo")
    for path, text in {"src/app.py": BASE_APP, **base_files}.items():
        r.write(path, text)
    base = r.commit("base")
    for path, text in {"src/app.py": HEAD_APP, **head_files}.items():
        r.write(path, text)
    r.commit("head")
    return r, base


def run(r: GitRepo, base: str, server: HTTPServer, env: dict[str, str], *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer(DIV, REM))
    out = r.root.parent / "findings.json"
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--repo", str(r.root), "--base", base,
         "--head", "HEAD", "--ollama-url", server.url_for("/").rstrip("/"), "--output", str(out),
         "--no-cache", "--timeout", "10", "--format", "markdown", *extra],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    return proc, (json.loads(out.read_text()) if out.exists() else {})


def test_an_accepted_finding_is_kept_aside_not_reported_and_not_gated_on(
    tmp_path: Path, server: HTTPServer, env: dict[str, str]
) -> None:
    r, base = repo(tmp_path, {".reviewer/baseline": f"# accepted\n{DIV_FP}  # the old division\n"}, {})
    proc, doc = run(r, base, server, env, "--fail-on", "high")
    assert proc.returncode == 0, proc.stderr  # the only high finding is accepted
    assert [f["title"] for f in doc["findings"]] == ["Modulo by zero"]
    assert [(f["title"], f["fingerprint"]) for f in doc["accepted"]] == [("Division by zero", DIV_FP)]
    assert "1 finding accepted in the repository's baseline is not shown." in proc.stdout
    assert "Division by zero" not in proc.stdout


def test_a_pull_request_cannot_accept_its_own_findings(
    tmp_path: Path, server: HTTPServer, env: dict[str, str]
) -> None:
    planted = f"{DIV_FP}\n{REM_FP}\n"
    r, base = repo(tmp_path, {}, {".reviewer/baseline": planted, ".reviewer.toml": 'baseline = "mine"\n', "mine": planted})
    proc, doc = run(r, base, server, env, "--fail-on", "high")
    assert proc.returncode == 1, proc.stderr
    assert sorted(f["title"] for f in doc["findings"]) == ["Division by zero", "Modulo by zero"]
    assert doc["accepted"] == []


def test_a_baseline_the_base_config_names_must_exist_there(
    tmp_path: Path, server: HTTPServer, env: dict[str, str]
) -> None:
    r, base = repo(tmp_path, {".reviewer.toml": 'baseline = "review/accepted.txt"\n'}, {"review/accepted.txt": DIV_FP})
    proc, _ = run(r, base, server, env)
    assert proc.returncode == 2
    assert "the baseline file review/accepted.txt named in the config does not exist in the base revision" in proc.stderr
    assert "hint: commit it to the base branch first, or remove the `baseline` key" in proc.stderr
    assert "Traceback" not in proc.stderr and server.log == []  # before any model call


def test_a_bad_line_is_a_one_line_error_naming_it(tmp_path: Path, server: HTTPServer, env: dict[str, str]) -> None:
    r, base = repo(tmp_path, {".reviewer/baseline": f"{DIV_FP}\n\nnot-a-fingerprint # why\n"}, {})
    proc, _ = run(r, base, server, env)
    assert proc.returncode == 2
    assert "reviewer: error: .reviewer/baseline:3: not a finding fingerprint" in proc.stderr
    assert "hint: one fingerprint per line, `#` for comments; write the file with `reviewer " \
        "report --findings FILE --format baseline`" in proc.stderr.splitlines()
    assert server.log == []


def test_the_baseline_format_writes_a_file_the_reader_takes_back(
    tmp_path: Path, server: HTTPServer, env: dict[str, str]
) -> None:
    r, base = repo(tmp_path, {}, {})
    proc, doc = run(r, base, server, env)
    assert proc.returncode == 0, proc.stderr
    document = FindingsDocument.model_validate(doc)
    text = render(document, "baseline")
    assert parse_baseline(text, "b") == {DIV_FP, REM_FP}
    assert f"{DIV_FP}  # high src/app.py:2 Division by zero\n" in text


def test_a_hostile_title_stays_inside_its_comment() -> None:
    from reviewer.models import Finding
    from tests.formats.format_docs import make_document

    evil = Finding.model_validate({
        "path": "a.py", "line": 1, "end_line": 1, "severity": "info", "category": "bug",
        "title": f"x\n{REM_FP}\r{DIV_FP}\u2028y", "message": "m", "fingerprint": "0" * 32,
    })
    text = render(make_document(findings=(evil,)), "baseline")
    assert parse_baseline(text, "b") == {"0" * 32}
    assert len(text.splitlines()) == 3  # two header lines and one entry


@pytest.mark.parametrize("text", ["x" * (1024 * 1024 + 1), "\n".join(f"{i:032x}" for i in range(10_001))])
def test_the_baseline_is_bounded(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_baseline(text, "b")


def test_the_size_bound_is_one_mib_of_utf8_exactly() -> None:
    at_limit = "#" * (1024 * 1024)  # a comment line of exactly 1 MiB is read
    assert parse_baseline(at_limit, "b") == frozenset()
    with pytest.raises(ConfigError) as over:
        parse_baseline(at_limit + "#", "b")
    assert over.value.message == "b is over 1024 KiB"
    # Counted in UTF-8 bytes, not characters: 2-byte characters reach it at half the count.
    with pytest.raises(ConfigError):
        parse_baseline("#" + "é" * (512 * 1024), "b")


def test_a_lone_surrogate_in_a_comment_is_measured_not_a_crash() -> None:
    """Text decoded with surrogateescape holds lone surrogates; measuring it must not raise."""
    assert parse_baseline(f"# \udcff undecodable\n{DIV_FP}\n", "b") == {DIV_FP}


def test_a_line_holds_one_fingerprint_and_nothing_else() -> None:
    """Two words on a line (a fingerprint and stray text, or two fingerprints) are refused
    rather than read as the first alone."""
    for line in (f"{DIV_FP} {REM_FP}", f"{DIV_FP} accepted"):
        with pytest.raises(ConfigError) as bad:
            parse_baseline(f"{line}\n", "b")
        assert bad.value.message == "b:1: not a finding fingerprint"


def test_the_entry_bound_is_ten_thousand_fingerprints_exactly() -> None:
    fingerprints = [f"{i:032x}" for i in range(10_001)]
    assert len(parse_baseline("\n".join(fingerprints[:10_000]), "b")) == 10_000
    with pytest.raises(ConfigError) as over:
        parse_baseline("\n".join(fingerprints), "b")
    assert over.value.message == "b holds over 10000 fingerprints"
