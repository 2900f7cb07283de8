"""examples/post-review.yml's guard, run with bash as the runner runs it against a recording
stand-in for `gh`: a pull request that changes .github/ ran a review workflow of its own making,
so its artifact is not trusted (nothing is posted; the check run is set to failure)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.shipfiles import ROOT, load

(JOB,) = load(ROOT / "examples" / "post-review.yml")["jobs"].values()
STEPS = {s.get("id", s["name"]): s for s in JOB["steps"]}
HEAD = "c0ffee" * 6 + "beef"

FAKE_GH = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.path.join(os.environ["RUNNER_TEMP"], "gh.log"), "a") as f:
    f.write(json.dumps(args) + "\\n")
if "--paginate" in args:
    print(os.environ["FAKE_FILES"])
elif ".head.sha" in args:
    print(os.environ["FAKE_HEAD"])
elif ".changed_files" in args:
    print(os.environ["FAKE_COUNT"])
"""


def run_step(name: str, temp: Path, files: str, count: str = "2", head: str = HEAD) -> tuple[int, str]:
    bin_dir = temp / "bin"
    bin_dir.mkdir(exist_ok=True)
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH.format(python=sys.executable), encoding="utf-8")
    gh.chmod(0o755)
    (temp / "untrusted").mkdir(exist_ok=True)
    (temp / "untrusted" / "pr-number").write_text("7\n", encoding="utf-8")
    outputs = temp / "out"
    outputs.write_text("", encoding="utf-8")
    script = temp / "step.sh"
    script.write_text(STEPS[name]["run"], encoding="utf-8")
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}", "RUNNER_TEMP": str(temp),
        "GITHUB_OUTPUT": str(outputs), "GITHUB_REPOSITORY": "octo/repo", "HEAD_SHA": HEAD,
        "FAKE_FILES": files, "FAKE_COUNT": count, "FAKE_HEAD": head,
    }
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        env=env, capture_output=True, text=True, check=False,
    )
    return done.returncode, outputs.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "count", "trusted"),
    [
        ("src/app.py\nREADME.md", "2", "true"),
        ("src/app.py\n.github/workflows/review-fork-safe.yml", "2", "false"),
        (".github/workflows/evil.yml", "1", "false"),  # a new workflow named review-fork-safe
        ("docs/x.md\n.github/actions/local/action.yml", "2", "false"),
        ("src/app.py", "3001", "false"),  # the files list stops at 3,000: unseen files
        ("src/app.py", "null", "false"),
        ("src/.github/x", "1", "true"),  # only the repository's own .github/ directory
    ],
)
def test_a_pull_request_changing_github_is_not_trusted(tmp_path: Path, files: str, count: str, trusted: str) -> None:
    code, outputs = run_step("pr", tmp_path, files, count)
    assert code == 0
    assert outputs.splitlines() == ["number=7", f"trusted={trusted}"]


def test_a_moved_head_stops_before_anything_else(tmp_path: Path) -> None:
    code, outputs = run_step("pr", tmp_path, "src/app.py", head="0" * 40)
    assert code == 1 and outputs == ""


def test_an_untrusted_review_sets_a_failing_check_run(tmp_path: Path) -> None:
    step = STEPS["Refuse a review the pull request could have forged"]
    assert step["if"] == "steps.pr.outputs.trusted != 'true'"
    code, _ = run_step(step["name"], tmp_path, "")
    assert code == 1  # the job fails too
    (call,) = (tmp_path / "gh.log").read_text().splitlines()
    for part in ("check-runs", "name=reviewer", f"head_sha={HEAD}", "conclusion=failure"):
        assert part in call
