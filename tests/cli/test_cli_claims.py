"""What `reviewer run` claims, through the real CLI in a subprocess against real git repositories
and fake model servers (issue 13): --format is checked first in every mode and a dry run prints
only what it can; every argument is judged before any network call; a range whose base is its
head is refused instead of reported as a complete review."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.cli.test_cli_run import reviewer
from tests.diff.gitrepo_helpers import GitRepo
from tests.model_fakes import DIGEST, answer, serve_ollama_chat, serve_ollama_preflight


def closed_port_url() -> str:
    """A loopback URL nothing listens on: the port was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def one_usage_error(proc: subprocess.CompletedProcess[str], *words: str) -> str:
    """Exit 2 with one error line (and at most a hint): the error line, checked for `words`."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.splitlines()
    assert 1 <= len(lines) <= 2 and lines[0].startswith("reviewer: error: "), proc.stderr
    assert len(lines) == 1 or lines[1].startswith("hint: "), proc.stderr
    for word in words:
        assert word in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def two_commits(root: Path, head_line: str = "    return 2") -> GitRepo:
    """A repository with one reviewable commit on top of its base: HEAD~1...HEAD."""
    r = GitRepo(root)
    r.write("app.py", "def main():\n    return 1\n")
    r.commit("base")
    r.write("app.py", f"def main():\n{head_line}\n")
    r.commit("head")
    return r


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    return two_commits(tmp_path / "repo")


def url(server: HTTPServer) -> str:
    return server.url_for("/").rstrip("/")


# --- --format ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["sarif", "markdown", "github", "rdjson", "rdjsonl"])
def test_dry_run_refuses_a_findings_format(
    repo: GitRepo, env: dict[str, str], tmp_path: Path, fmt: str
) -> None:
    proc = reviewer(
        ["--repo", str(repo.root), "--base", "HEAD~1", "--dry-run", "--format", fmt],
        env,
        tmp_path,
    )
    line = one_usage_error(proc, "--dry-run", f"--format {fmt}", "text or json")
    assert "plan" in line
    assert proc.stdout == ""


def test_dry_run_prints_text_and_json_in_any_case(
    repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    base = ["--repo", str(repo.root), "--base", "HEAD~1", "--dry-run"]
    as_json = reviewer([*base, "--format", "JSON"], env, tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["totals"]["chunks"] == 1
    as_text = reviewer([*base, "--format", "text"], env, tmp_path)
    assert as_text.returncode == 0, as_text.stderr
    assert "Chunks (1):" in as_text.stdout and "nothing was sent" in as_text.stdout


@pytest.mark.parametrize("dry", [True, False])
def test_an_unknown_format_is_refused_before_anything_else(
    server: HTTPServer, env: dict[str, str], tmp_path: Path, dry: bool
) -> None:
    """Before git (the repository does not exist), the output file and the model: the server
    sees no request, and no document is written."""
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    out = tmp_path / "findings.json"
    args = [
        "--repo", str(tmp_path / "no-such-repo"), "--base", "main", "--ollama-url", url(server),
        "--output", str(out), "--no-cache", "--format", "nonsense",
    ]
    proc = reviewer([*args, "--dry-run"] if dry else args, env, tmp_path)
    one_usage_error(proc, "unknown format 'nonsense'")
    assert "text, json, sarif" in proc.stderr  # the hint names the formats
    assert server.log == [] and not out.exists()


def test_a_real_run_prints_the_format_it_was_given(
    server: HTTPServer, repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    args = [
        "--repo", str(repo.root), "--base", "HEAD~1", "--ollama-url", url(server), "--no-cache",
        "--format", "SARIF",
    ]
    proc = reviewer(args, env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["version"] == "2.1.0"


# --- arguments before the network --------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--model-digest", "xyz"], ["--model-digest 'xyz'", "not a sha256 digest"]),
        (["--model-digest", "sha256:12345"], ["not a sha256 digest"]),
        (["--backend", "openai", "--model-digest", DIGEST], ["needs the Ollama backend"]),
    ],
)
def test_a_malformed_argument_is_exit_2_with_no_server_listening(
    repo: GitRepo, env: dict[str, str], tmp_path: Path, extra: list[str], words: list[str]
) -> None:
    """Exit 2 names the argument; "unreachable" (exit 3) would send the user to the server."""
    dead = closed_port_url()
    args = ["--repo", str(repo.root), "--base", "HEAD~1", "--ollama-url", dead,
            "--base-url", dead, "--no-cache", *extra]
    for mode in ([], ["--dry-run"]):
        line = one_usage_error(reviewer([*args, *mode], env, tmp_path), *words)
        assert "reach" not in line and "connect" not in line


def test_a_malformed_url_is_exit_2(repo: GitRepo, env: dict[str, str], tmp_path: Path) -> None:
    proc = reviewer(
        ["--repo", str(repo.root), "--base", "HEAD~1", "--ollama-url", "localhost:11434"],
        env,
        tmp_path,
    )
    one_usage_error(proc, "must use http or https")


def test_a_well_formed_digest_with_no_server_is_unreachable(
    repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    """The same run with a valid pin: now the server really is the problem (exit 3)."""
    args = ["--repo", str(repo.root), "--base", "HEAD~1", "--ollama-url", closed_port_url(),
            "--model-digest", DIGEST[:12], "--no-cache", "--retries", "0"]
    proc = reviewer(args, env, tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert "ollama serve" in proc.stderr


# --- a range whose base is its head ------------------------------------------------------


@pytest.fixture
def clone(repo: GitRepo, tmp_path: Path) -> Path:
    """A fresh clone of `repo` on its default branch: origin/HEAD is HEAD itself, as in a push
    to the default branch or a local main checkout."""
    target = tmp_path / "clone"
    repo.git("clone", "-q", str(repo.root), str(target))
    return target


@pytest.mark.parametrize("dry", [True, False])
def test_no_base_on_the_default_branch_is_refused(
    server: HTTPServer, clone: Path, env: dict[str, str], tmp_path: Path, dry: bool
) -> None:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    out = tmp_path / "findings.json"
    args = ["--repo", str(clone), "--ollama-url", url(server), "--output", str(out),
            "--no-cache"]
    proc = reviewer([*args, "--dry-run"] if dry else args, env, tmp_path)
    line = one_usage_error(proc, "'origin/HEAD'", "'HEAD'", "same commit", "nothing to review")
    assert "complete" not in proc.stdout + line
    hint = proc.stderr.splitlines()[1]
    assert "--base REF" in hint and "pull request" in hint
    assert server.log == [] and not out.exists()


def test_an_explicit_base_equal_to_head_is_refused(
    repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    head = repo.git("rev-parse", "HEAD").decode().strip()
    proc = reviewer(["--repo", str(repo.root), "--base", "main", "--head", head], env, tmp_path)
    one_usage_error(proc, "'main'", f"'{head}'", f"({head[:12]})", "same commit")
    assert "--base" in proc.stderr.splitlines()[1]


def test_an_empty_diff_between_two_commits_is_still_a_complete_review(
    server: HTTPServer, repo: GitRepo, env: dict[str, str], tmp_path: Path
) -> None:
    """Only the same commit is refused: different commits with nothing between them (here an
    empty commit, as a merge can be) are a real review of nothing, exit 0, no model call."""
    repo.commit("empty")
    out = tmp_path / "findings.json"
    proc = reviewer(
        ["--repo", str(repo.root), "--base", "HEAD~1", "--ollama-url", url(server),
         "--output", str(out), "--no-cache"],
        env,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["status"] == "complete"
    assert server.log == []
