"""scripts/try.sh, the README's first command: it starts the small model's server, finds the
model id, runs `reviewer run` on the repository you are in, and always stops the server.

The review itself is proven by test_run_real_model.py; here `--dry-run` (passed through to
`reviewer run`) keeps the script's own plumbing quick to check."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from .llama import ROOT, LlamaServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
        reason="try.sh sets up and uses the project's .venv; run the tests from it",
    ),
]

TRY = ROOT / "scripts" / "try.sh"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _repo(path: Path, commits: int) -> Path:
    _git(path, "init", "--quiet", "-b", "main")
    _git(path, "config", "user.email", "e2e@example.invalid")
    _git(path, "config", "user.name", "e2e")
    for n in range(commits):
        (path / "notes.py").write_text(f"VERSION = {n}\n")
        _git(path, "add", "--all")
        _git(path, "commit", "--quiet", "-m", f"commit {n}")
    return path


def _try(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(TRY), *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_try_runs_reviewer_against_the_server_and_stops_it(
    tmp_path: Path, llama_server: LlamaServer
) -> None:
    # llama_server: only for its skip when the model is not installed; try.sh starts its own.
    done = _try(_repo(tmp_path, commits=2), "--dry-run")
    assert done.returncode == 0, done.stderr
    ready = re.search(r"server ready at (http://127\.0\.0\.1:\d+), model (\S+)", done.stderr)
    assert ready is not None, done.stderr
    assert ready.group(2) == llama_server.model
    assert "reviewing HEAD~1..HEAD" in done.stderr
    assert "notes.py" in done.stdout  # the dry run's plan lists the changed file
    with pytest.raises(httpx.ConnectError):  # the trap stopped the server before exiting
        httpx.get(f"{ready.group(1)}/health", timeout=10)


def test_try_explains_a_repository_with_one_commit(tmp_path: Path) -> None:
    done = _try(_repo(tmp_path, commits=1))
    assert done.returncode == 2
    assert "has no commit before HEAD" in done.stderr
    assert "server ready" not in done.stderr  # nothing was started


def test_try_explains_a_directory_outside_git(tmp_path: Path) -> None:
    done = _try(tmp_path)
    assert done.returncode == 2
    assert "is not inside a git repository" in done.stderr
