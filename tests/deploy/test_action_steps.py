"""The action's shell steps, run with bash as the runner runs them, against a recording stand-in
for `reviewer` (and the real Python for the counting step)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reviewer.models import (
    Category,
    Finding,
    FindingsDocument,
    ModelInfo,
    Severity,
    Status,
    ToolInfo,
)
from tests.deploy.shipfiles import ROOT, load

STEPS = {s.get("id"): s for s in load(ROOT / "action.yml")["runs"]["steps"]}

FAKE_REVIEWER = """#!{python}
import json, os, sys
home = os.environ["RUNNER_TEMP"]
with open(os.path.join(home, "call.json"), "w") as f:
    json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, f)
if "--output" in sys.argv:
    out = sys.argv[sys.argv.index("--output") + 1]
    with open(out, "w") as f:
        f.write("{{}}")
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""


@pytest.fixture
def runner_temp(tmp_path: Path) -> Path:
    """A RUNNER_TEMP holding the action's virtualenv: the fake reviewer and the real Python."""
    venv_bin = tmp_path / "reviewer-venv" / "bin"
    venv_bin.mkdir(parents=True)
    fake = venv_bin / "reviewer"
    fake.write_text(FAKE_REVIEWER.format(python=sys.executable), encoding="utf-8")
    fake.chmod(0o755)
    (venv_bin / "python").symlink_to(sys.executable)
    return tmp_path


def run_step(step_id: str, temp: Path, env: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Run one `run:` step like the runner: bash --noprofile --norc -eo pipefail FILE."""
    script = temp / f"{step_id}.sh"
    script.write_text(STEPS[step_id]["run"], encoding="utf-8")
    outputs = temp / f"{step_id}.out"
    outputs.write_text("", encoding="utf-8")
    full_env = {
        "PATH": os.environ["PATH"],
        "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_REPOSITORY": "octo/repo",
        **env,
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=full_env,
        cwd=temp,
        capture_output=True,
        text=True,
        check=False,
    )
    pairs = [line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines()]
    return done.returncode, dict(pairs)


def last_call(temp: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((temp / "call.json").read_text(encoding="utf-8"))
    return result


REVIEW_INPUTS = {
    "INPUT_MODEL": 'm"; touch injected; echo "',
    "INPUT_URL": "http://localhost:11434",
    "INPUT_BACKEND": "ollama",
    "INPUT_FAIL_ON": "high",
    "INPUT_CONFIG": "",
    "INPUT_ARGS": "--exclude $(touch injected) --num-ctx 4096",
    "INPUT_CACHE": "true",
    "INPUT_OUTPUT": "",
}


def test_review_step_passes_inputs_literally_and_no_token(runner_temp: Path) -> None:
    env = {**REVIEW_INPUTS, "GITHUB_TOKEN": "ghs_secret", "GH_TOKEN": "x", "FAKE_EXIT": "0"}
    code, outputs = run_step("review", runner_temp, env)
    assert code == 0
    call = last_call(runner_temp)
    argv = call["argv"]
    assert argv[0] == "run"
    assert argv[argv.index("--model") + 1] == REVIEW_INPUTS["INPUT_MODEL"]
    assert argv[argv.index("--ollama-url") + 1] == "http://localhost:11434"
    assert argv[argv.index("--fail-on") + 1] == "high"
    assert argv[argv.index("--cache-dir") + 1] == str(runner_temp / "reviewer-response-cache")
    assert argv[-5:] == ["--exclude", "$(touch", "injected)", "--num-ctx", "4096"]
    assert "--config" not in argv
    assert not (runner_temp / "injected").exists()
    assert "GITHUB_TOKEN" not in call["env"] and "GH_TOKEN" not in call["env"]
    assert outputs["findings"] == str(runner_temp / "reviewer" / "findings.json")
    assert outputs["exit-code"] == "0"


def test_review_step_records_a_failed_review_without_failing_itself(runner_temp: Path) -> None:
    env = {**REVIEW_INPUTS, "INPUT_BACKEND": "openai", "INPUT_FAIL_ON": "", "FAKE_EXIT": "3"}
    code, outputs = run_step("review", runner_temp, env)
    # The verdict step fails the job later, after the findings had a chance to be posted.
    assert code == 0
    assert outputs["exit-code"] == "3"
    argv = last_call(runner_temp)["argv"]
    assert "--base-url" in argv and "--ollama-url" not in argv and "--fail-on" not in argv


def document(*severities: Severity, status: Status = Status.COMPLETE) -> str:
    findings = tuple(
        Finding(
            path="a.py",
            line=i + 1,
            end_line=i + 1,
            severity=s,
            category=Category.BUG,
            title="t",
            message="m",
            fingerprint=f"f{i}",
        )
        for i, s in enumerate(severities)
    )
    doc = FindingsDocument(
        status=status,
        tool=ToolInfo(version="0.1.0"),
        model=ModelInfo(backend="ollama", name="m"),
        findings=findings,
    )
    return doc.model_dump_json()


def test_summary_counts_findings_by_severity(runner_temp: Path) -> None:
    path = runner_temp / "findings.json"
    path.write_text(document(Severity.HIGH, Severity.HIGH, Severity.LOW), encoding="utf-8")
    code, outputs = run_step("summary", runner_temp, {"REVIEWED": str(path), "MODE": "review"})
    assert code == 0
    assert outputs == {
        "findings": str(path),
        "written": "true",
        "status": "complete",
        "total": "3",
        "critical": "0",
        "high": "2",
        "medium": "0",
        "low": "1",
        "info": "0",
    }


@pytest.mark.parametrize(
    "text",
    ['{"status": "x\\nhigh=99", "findings": []}', "not json", '{"findings": "zz"}', "[1]"],
)
def test_summary_of_an_untrusted_document_cannot_forge_outputs(
    runner_temp: Path, text: str
) -> None:
    path = runner_temp / "untrusted.json"
    path.write_text(text, encoding="utf-8")
    env = {"GIVEN": str(path), "MODE": "post-only"}
    code, outputs = run_step("summary", runner_temp, env)
    assert code == 0
    assert outputs["written"] == "true"
    assert outputs.get("high", "0") == "0"
    assert outputs.get("total", "0") == "0"
    assert outputs.get("status", "") == ""


def test_summary_without_a_document(runner_temp: Path) -> None:
    missing = runner_temp / "missing.json"
    code, outputs = run_step("summary", runner_temp, {"REVIEWED": str(missing), "MODE": "review"})
    assert code == 0
    assert outputs["written"] == "false"


def test_post_step_is_the_one_that_gets_the_token(runner_temp: Path) -> None:
    env = {
        "GITHUB_TOKEN": "ghs_secret",
        "FINDINGS": "/f.json",
        "INPUT_PR": "12",
        "INPUT_FAIL_ON": "high",
        "INPUT_FALLBACK": "true",
        "INPUT_CHECK_RUN": "true",
        "MODE": "post-only",
    }
    code, _ = run_step("post", runner_temp, env)
    assert code == 0
    call = last_call(runner_temp)
    assert call["env"]["GITHUB_TOKEN"] == "ghs_secret"
    assert call["argv"] == [
        "post",
        "--findings",
        "/f.json",
        "--pr",
        "12",
        "--repo",
        "octo/repo",
        "--annotations-fallback",
        "--fail-on",
        "high",
    ]


def test_post_step_in_review_mode_leaves_the_verdict_to_the_review(runner_temp: Path) -> None:
    env = {
        "FINDINGS": "/f.json",
        "INPUT_PR": "",
        "INPUT_FAIL_ON": "high",
        "INPUT_FALLBACK": "false",
        "INPUT_CHECK_RUN": "false",
        "MODE": "review",
        "FAKE_EXIT": "3",
    }
    code, _ = run_step("post", runner_temp, env)
    assert code == 3  # GitHub refused: the post step fails
    # --fail-on still goes to the poster: it decides the check run's conclusion.
    argv = ["post", "--findings", "/f.json", "--no-check-run", "--fail-on", "high"]
    assert last_call(runner_temp)["argv"] == argv
    # Findings at or above fail-on: the Verdict step fails the job with `reviewer run`'s code;
    # in post-only mode the poster's exit 1 is the verdict.
    assert run_step("post", runner_temp, {**env, "FAKE_EXIT": "1"})[0] == 0
    assert run_step("post", runner_temp, {**env, "FAKE_EXIT": "1", "MODE": "post-only"})[0] == 1


def test_verdict_step_fails_with_the_review_exit_code() -> None:
    script = next(s for s in load(ROOT / "action.yml")["runs"]["steps"] if s["name"] == "Verdict")
    for code in ("0", "1", "2", "3"):
        done = subprocess.run(
            ["bash", "-eo", "pipefail", "-c", script["run"]],
            env={"PATH": os.environ["PATH"], "CODE": code},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == int(code)
