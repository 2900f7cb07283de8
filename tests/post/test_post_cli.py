"""`reviewer post` and `reviewer report` through the real entry points: exit codes 0/1/2/3."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from reviewer.cli.app import app
from tests.post.github_fake import FakeGitHub

PROJECT = Path(__file__).resolve().parents[2]


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    runner = CliRunner()
    full_env = dict.fromkeys(("GITHUB_TOKEN", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY", "GITHUB_STEP_SUMMARY", "GITHUB_ACTIONS"), "")
    full_env.update(env)
    result = runner.invoke(app, args, env=full_env)
    return result.exit_code, result.stdout, result.stderr


def test_post_exit_0_then_1_with_fail_on(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    code, _, err = invoke(["post", "--findings", str(findings_file)], env)
    assert code == 0, err
    assert len(fake.reviews) == 1
    code, _, err = invoke(["post", "--findings", str(findings_file), "--fail-on", "critical"], env)
    assert code == 1 and len(fake.reviews) == 1


def test_post_bad_document_exit_2_and_nothing_sent(fake: FakeGitHub, tmp_path: Path, env: dict[str, str]) -> None:
    for text in ("{not json", '{"schema_version": 2}', "[]"):
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        code, _, err = invoke(["post", "--findings", str(bad)], env)
        assert code == 2 and "reviewer: error:" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) <= 2
    assert fake.log == []


def test_post_without_token_exit_2_or_annotations(findings_file: Path, tmp_path: Path) -> None:
    code, _, err = invoke(["post", "--findings", str(findings_file), "--repo", "o/r", "--pr", "1"], {})
    assert code == 2 and "GITHUB_TOKEN is not set" in err
    assert "`pull-requests: write`" in err and "issues" not in err
    summary = tmp_path / "summary.md"
    code, out, _ = invoke(
        ["post", "--findings", str(findings_file), "--annotations-fallback"],
        {"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert code == 0 and out.count("::") >= 2 * 9
    assert "::error file=src/app.py,line=24,endLine=24,title=[critical] Division by zero::" in out
    assert summary.read_text().startswith("<!-- reviewer:summary -->")


def test_post_dry_run_without_token_needs_no_network(findings_file: Path) -> None:
    code, out, _ = invoke(["post", "--findings", str(findings_file), "--dry-run"], {})
    assert code == 0 and "dry run: nothing is posted" in out and "<!-- reviewer:summary -->" in out


def test_post_github_refusal_exit_3_in_a_subprocess(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    fake.server_errors = 100
    child_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--max-wait", "0"],
        env=child_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "GitHub answered 502" in result.stderr and "Traceback" not in result.stderr
    assert fake.writes() == []


def test_post_success_in_a_subprocess(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    child_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file)],
        env=child_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "5 inline comments posted" in result.stderr and len(fake.summaries()) == 1


def test_report_converts_and_rejects_unknown_formats(findings_file: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "out.sarif"
    code, _, err = invoke(["report", "--findings", str(findings_file), "-f", "sarif", "-o", str(out_file)], {})
    assert code == 0, err
    assert '"version": "2.1.0"' in out_file.read_text()
    code, _, err = invoke(["report", "--findings", str(findings_file), "--format", "yaml"], {})
    assert code == 2 and "unknown format 'yaml'" in err and "sarif" in err
    code, out, _ = invoke(["report", "--findings", str(findings_file), "--format", "rdjsonl"], {})
    assert code == 0 and len(out.splitlines()) == 9


def test_post_fail_on_takes_any_case_in_a_subprocess(fake: FakeGitHub, findings_file: Path, env: dict[str, str]) -> None:
    """The document holds a critical finding: `High` trips --fail-on just as `high` does."""
    child_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT / "src")}
    codes = []
    for level in ("high", "High", "HIGH"):
        result = subprocess.run(
            [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--fail-on", level],
            env=child_env, capture_output=True, text=True, timeout=60, check=False,
        )
        assert "Invalid value" not in result.stderr, result.stderr
        codes.append(result.returncode)
    assert codes == [1, 1, 1]
    bad = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings_file), "--fail-on", "severe"],
        env=child_env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 2
    assert "'severe' is not one of: critical, high, medium, low, info" in bad.stderr
    assert "Value error" not in bad.stderr
