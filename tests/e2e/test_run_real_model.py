"""`reviewer run` end to end with a real model: the CLI as a subprocess, a real git repository,
llama.cpp's server and SmolLM2-135M. The model's findings are nonsense; what is proven is the
plumbing: a complete, schema-valid document whose every finding lies on an added line of the
diff, token counts from the server, no traceback, and a re-run answered from the cache."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewer.models import FindingsDocument

from .llama import LlamaServer

pytestmark = pytest.mark.e2e

BASE_FILES = {"util.py": "def add(a, b):\n    return a + b\n"}
HEAD_FILES = {
    "util.py": "def add(a, b):\n    return a - b\n",
    "users.py": (
        "import sqlite3\n"
        "\n"
        "\n"
        "def find_user(db, name):\n"
        '    query = "SELECT * FROM users WHERE name = \'" + name + "\'"\n'
        "    return db.execute(query).fetchall()\n"
        "\n"
        "\n"
        "def average(values):\n"
        "    return sum(values) / 0\n"
    ),
}
# This model tends to write until the schema's limits stop it. With --max-findings 1 the
# longest answer the schema allows (every field at its maxLength) fits in 2,048 tokens, so the
# answer is never cut off: a cut-off answer would be invalid, and invalid twice is exit 3.
NUM_PREDICT = "2048"
# Generous: on a busy 2-core runner this model decodes at a few tokens a second.
RUN_TIMEOUT_S = 1500
# Variables that would change the run if the developer's shell set them.
SCRUBBED_PREFIXES = ("REVIEWER_", "OLLAMA_", "GITHUB_", "LOCAL_LLM_OPTIONAL", "CI")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Repo:
    path: Path
    base: str
    head: str


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        (repo / name).write_text(text)
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    path = tmp_path_factory.mktemp("repo")
    _git(path, "init", "--quiet", "-b", "main")
    _git(path, "config", "user.email", "e2e@example.invalid")
    _git(path, "config", "user.name", "e2e")
    _git(path, "config", "commit.gpgsign", "false")
    base = _commit(path, BASE_FILES, "base")
    head = _commit(path, HEAD_FILES, "head: add users.py, break add()")
    return Repo(path=path, base=base, head=head)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env["NO_COLOR"] = "1"
    return env


def _run(server: LlamaServer, repo: Repo, cache_dir: Path, output: Path) -> Run:
    args = [
        sys.executable, "-m", "reviewer", "run",
        "--repo", str(repo.path), "--base", repo.base, "--head", repo.head,
        "--backend", "openai", "--base-url", server.base_url, "--model", server.model,
        "--num-predict", NUM_PREDICT, "--max-findings", "1", "--timeout", str(RUN_TIMEOUT_S),
        "--cache-dir", str(cache_dir), "--fail-on", "critical",
        "--output", str(output),
    ]  # fmt: skip
    done = subprocess.run(
        args, capture_output=True, text=True, env=_environment(), timeout=RUN_TIMEOUT_S + 60
    )
    assert output.is_file(), (
        f"no findings document; exit {done.returncode}\nstderr:\n{done.stderr}\n"
        f"server log:\n{server.log.read_text()[-2000:]}"
    )
    return Run(done.returncode, done.stdout, done.stderr, json.loads(output.read_text()))


@pytest.fixture(scope="module")
def runs(
    llama_server: LlamaServer, repo: Repo, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Run, Run]]:
    """The same review twice with one cache: the model answers the first, the cache the second."""
    work = tmp_path_factory.mktemp("run")
    first = _run(llama_server, repo, work / "cache", work / "first.json")
    second = _run(llama_server, repo, work / "cache", work / "second.json")
    yield first, second


def _changed_lines(repo: Repo) -> set[tuple[str, str, int]]:
    """(path, side, number) of every changed line, read from git itself, not from reviewer:
    RIGHT and the new-file number for an added line, LEFT and the old-file number for a
    removed one."""
    diff = _git(repo.path, "diff", "--no-color", "-U0", repo.base, repo.head)
    changed: set[tuple[str, str, int]] = set()
    old_path, path, old, new = "", "", 0, 0
    for text in diff.splitlines():
        if text.startswith("--- "):
            old_path = text.removeprefix("--- a/")
        elif text.startswith("+++ "):
            path = text.removeprefix("+++ b/")
            path = old_path if path == "/dev/null" else path
        elif match := re.match(r"@@ -(\d+)\S* \+(\d+)", text):
            old, new = int(match.group(1)), int(match.group(2))
        elif text.startswith("+"):
            changed.add((path, "RIGHT", new))
            new += 1
        elif text.startswith("-"):
            changed.add((path, "LEFT", old))
            old += 1
    return changed


def test_the_review_completes_without_a_traceback(runs: tuple[Run, Run]) -> None:
    first, _ = runs
    critical = [f for f in first.document["findings"] if f["severity"] == "critical"]
    # --fail-on critical: exit 1 exactly when a critical finding was kept; never 2 or 3.
    assert first.code == (1 if critical else 0), first.stderr
    assert first.document["status"] == "complete"
    assert first.document["errors"] == []
    assert "Traceback" not in first.stderr
    assert "internal error" not in first.stderr


def test_the_document_is_valid_against_the_published_schema(runs: tuple[Run, Run]) -> None:
    schema = json.loads(
        subprocess.run(
            [sys.executable, "-m", "reviewer", "schema"],
            check=True, capture_output=True, text=True,
        ).stdout
    )  # fmt: skip
    for run in runs:
        jsonschema.validate(run.document, schema)
        FindingsDocument.model_validate_json(json.dumps(run.document))


def test_the_document_names_the_model_and_the_commits(
    runs: tuple[Run, Run], repo: Repo, llama_server: LlamaServer
) -> None:
    document = runs[0].document
    assert document["model"] == {
        "backend": "openai",
        "name": llama_server.model,
        "digest": None,
        "servers": [{"url": llama_server.base_url, "dropped": None}],
    }
    assert (document["base"], document["head"]) == (repo.base, repo.head)


def test_every_kept_finding_lies_on_a_changed_line(runs: tuple[Run, Run], repo: Repo) -> None:
    """An added line by its new number (RIGHT) or a removed line by its old number (LEFT)."""
    changed = _changed_lines(repo)
    assert {path for path, side, _ in changed if side == "RIGHT"} == {"users.py", "util.py"}
    for finding in runs[0].document["findings"]:
        lines = range(finding["line"], finding["end_line"] + 1)
        assert all((finding["path"], finding["side"], n) in changed for n in lines), finding


def test_the_server_reported_tokens_for_real_model_calls(runs: tuple[Run, Run]) -> None:
    stats = runs[0].document["stats"]
    assert stats["files_reviewed"] == 2
    assert stats["chunks"] >= 1
    assert stats["chunks_failed"] == 0
    assert stats["model_calls"] >= stats["chunks"]
    assert stats["prompt_tokens"] > 0
    assert stats["completion_tokens"] > 0
    assert stats["cache_misses"] == stats["chunks"]


def test_a_rerun_on_the_same_head_makes_no_model_call(runs: tuple[Run, Run]) -> None:
    first, second = runs
    assert second.code == first.code
    assert second.document["status"] == "complete"
    assert second.document["stats"]["model_calls"] == 0
    assert second.document["stats"]["cache_hits"] == first.document["stats"]["chunks"]
    assert second.document["findings"] == first.document["findings"]
