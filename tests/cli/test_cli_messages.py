"""The messages a person reads, through the real CLI in a subprocess: `-h` everywhere `--help`
works, help without type names, enum options in any case and refused in our words, config-file
mistakes and connection failures said plainly, counts in the right number, comma-separated
globs, and the first chunk announced before the model answers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.diff.gitrepo_helpers import GIT_ENV, GitRepo
from tests.model_fakes import (
    APP_DIFF,
    answer,
    ndjson_bytes,
    ollama_stream,
    serve_ollama_preflight,
)

COMMANDS = ([], ["run"], ["eval"], ["post"], ["report"], ["schema"], ["doctor"])
# What typer and click print when an option has no metavar: `<list[str]>`, `<int range>`...
TYPE_NAMES = re.compile(r"<[^>\s]*>|list\[|range>|<int|<float|<str|<path|<bool")
LIBRARY_WORDS = ("Value error", "Extra inputs", "Input should", "ConnectError", "File exists")
# The console script a user runs (its usage line says `reviewer`), else the module.
SCRIPT = Path(sys.executable).with_name("reviewer")
ENTRY = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "reviewer"]


def reviewer(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ENTRY, *args],
        env={**os.environ, **GIT_ENV, "CI": "true", **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_repo(root: Path, base_files: dict[str, str], head_files: dict[str, str]) -> Path:
    repo = GitRepo(root)
    for files, message in ((base_files, "base"), (head_files, "head")):
        for name, text in files.items():
            repo.write(name, text)
        repo.commit(message)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo", {"app.py": "a = 1\n"}, {"app.py": "a = 2\n"})


def dry_run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return reviewer("run", "--repo", str(root), "--base", "HEAD~1", "--dry-run", *args)


# --- help --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "reviewer")
def test_dash_h_is_help_for_every_command(command: list[str]) -> None:
    long, short = reviewer(*command, "--help"), reviewer(*command, "-h")
    assert long.returncode == short.returncode == 0, short.stderr
    assert short.stdout == long.stdout and short.stdout.startswith("Usage: ")
    assert " ".join(["reviewer", *command, "[OPTIONS]"]) in short.stdout.splitlines()[0]
    assert "-h, --help" in short.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "reviewer")
def test_help_names_no_python_types(command: list[str]) -> None:
    text = reviewer(*command, "--help").stdout
    assert not TYPE_NAMES.findall(text), TYPE_NAMES.findall(text)


def test_run_help_shows_the_metavars() -> None:
    text = reviewer("run", "-h").stdout
    for shown in ("--include GLOB[,GLOB...]", "--timeout SECONDS", "--fail-on LEVEL",
                  "--ollama-url URL", "--max-chunks N", "--output PATH", "--backend API"):
        assert shown in text


def test_a_usage_error_points_at_dash_h(repo: Path) -> None:
    proc = dry_run(repo, "--no-such-flag")
    assert proc.returncode == 2 and "Try 'reviewer run -h' for help." in proc.stderr


# --- enum options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        ["--fail-on", "High"],
        ["--fail-on", "HIGH"],
        ["--backend", "OpenAI"],
        ["--filter-mode", "DIFF_CONTEXT"],
    ],
)
def test_enum_options_take_any_case(repo: Path, option: list[str]) -> None:
    proc = dry_run(repo, *option)
    assert proc.returncode == 0, proc.stderr
    assert "Dry run: nothing was sent" in proc.stdout


def test_an_enum_from_the_environment_takes_any_case(repo: Path) -> None:
    proc = reviewer("run", "--repo", str(repo), "--base", "HEAD~1", "--dry-run",
                    env={"REVIEWER_BACKEND": "OPENAI"})
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("option", "choices"),
    [
        ("--fail-on", "critical, high, medium, low, info"),
        ("--backend", "ollama, openai"),
        ("--filter-mode", "added, diff_context"),
    ],
)
def test_a_bad_enum_value_is_refused_in_our_words(repo: Path, option: str, choices: str) -> None:
    proc = dry_run(repo, option, "nonsense")
    assert proc.returncode == 2
    assert f"Invalid value for '{option}'" in proc.stderr
    assert f"'nonsense' is not one of: {choices}" in proc.stderr
    assert not any(words in proc.stderr for words in LIBRARY_WORDS), proc.stderr


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--num-ctx", "abc", "'abc' is not a whole number"),
        ("--num-ctx", "5", "must be at least 512, not 5"),
        ("--context-lines", "21", "must be at most 20, not 21"),
        ("--retries", "1.5", "'1.5' is not a whole number"),
        ("--retries", "1000000", "must be at most 10, not 1000000"),
        ("--timeout", "soon", "'soon' is not a number of seconds"),
        ("--timeout", "inf", "'inf' is not a number of seconds"),
        ("--timeout", "nan", "'nan' is not a number of seconds"),
        ("--timeout", "0.5", "must be at least 1, not 0.5"),
        ("--lock-timeout", "-1", "must be at least 0, not -1"),
    ],
)
def test_a_bad_number_is_refused_in_our_words(
    repo: Path, option: str, value: str, message: str
) -> None:
    proc = dry_run(repo, option, value)
    assert proc.returncode == 2
    last = proc.stderr.splitlines()[-1]
    assert last.startswith(f"Error: Invalid value for '{option}'") and last.endswith(message)
    assert not any(words in proc.stderr for words in LIBRARY_WORDS), proc.stderr


def test_a_number_from_the_environment_is_checked_the_same_way(repo: Path) -> None:
    proc = reviewer("run", "--repo", str(repo), "--base", "HEAD~1", "--dry-run",
                    env={"REVIEWER_MAX_CHUNKS": "lots"})
    assert proc.returncode == 2 and "'lots' is not a whole number" in proc.stderr
    good = reviewer("run", "--repo", str(repo), "--base", "HEAD~1", "--dry-run",
                    "--num-ctx", "4096", "--timeout", "30.5", env={"REVIEWER_MAX_CHUNKS": "1"})
    assert good.returncode == 0, good.stderr


# --- config file, connection, --show-prompts ---------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('exclud = ["docs/**"]\n', "unknown key `exclud` (did you mean `exclude`?)"),
        ("max_file_lines = 0\n", "max_file_lines: must be at least 1, not 0"),
        ('skip_generated = "maybe"\n', "skip_generated: expected true or false, got text 'maybe'"),
    ],
)
def test_a_config_file_mistake_is_said_plainly(tmp_path: Path, config: str, message: str) -> None:
    root = make_repo(
        tmp_path / "repo", {"app.py": "a = 1\n", ".reviewer.toml": config}, {"app.py": "a = 2\n"}
    )
    proc = dry_run(root)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == f"reviewer: error: .reviewer.toml: {message}"
    assert not any(words in proc.stderr for words in LIBRARY_WORDS)


def test_a_refused_connection_is_said_in_words(tmp_path: Path) -> None:
    proc = reviewer("doctor", "--ollama-url", "http://127.0.0.1:9", "--timeout", "5",
                    cwd=tmp_path)
    assert proc.returncode == 3
    assert "cannot connect to http://127.0.0.1:9: connection refused" in proc.stdout
    assert not any(words in proc.stdout + proc.stderr for words in LIBRARY_WORDS)


def test_show_prompts_on_a_file_says_so(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "prompts"
    target.write_text("not a directory\n")
    proc = dry_run(repo, "--show-prompts", str(target))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"reviewer: error: --show-prompts {target} is a file, not a directory",
        "hint: pass a directory (it is created when missing)",
    ]
    assert target.read_text() == "not a directory\n"


# --- counts ------------------------------------------------------------------------------


def test_dry_run_totals_count_in_the_right_number(tmp_path: Path) -> None:
    one = make_repo(tmp_path / "one", {"a.py": "a = 1\n"}, {"a.py": "a = 2\n"})
    totals = [ln for ln in dry_run(one).stdout.splitlines() if ln.startswith("Totals:")]
    assert totals[0].startswith(
        "Totals: 1 file to review (1 added, 1 removed line), 0 skipped, 1 chunk, ~"
    )
    two = make_repo(tmp_path / "two", {"a.py": "a = 1\n"},
                    {"a.py": "a = 2\nb = 3\n", "b.py": "c = 1\n"})
    totals = [ln for ln in dry_run(two).stdout.splitlines() if ln.startswith("Totals:")]
    assert totals[0].startswith("Totals: 2 files to review (3 added, 1 removed line), ")


# --- globs -------------------------------------------------------------------------------


def selected(root: Path, *args: str) -> list[str]:
    proc = dry_run(root, "--format", "json", *args)
    assert proc.returncode == 0, proc.stderr
    return sorted(f["path"] for f in json.loads(proc.stdout)["files"])


def test_comma_separated_and_repeated_globs_select_the_same_files(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "repo",
        {"src/a.py": "a = 1\n"},
        {"src/a.py": "a = 2\n", "tests/t.py": "t = 1\n", "docs/d.py": "d = 1\n",
         "data/a,b.py": "x = 1\n"},
    )
    repeated = selected(root, "--include", "src/**", "--include", "tests/**")
    assert repeated == ["src/a.py", "tests/t.py"]
    assert selected(root, "--include", "src/**,tests/**") == repeated
    assert selected(root, "--include", " src/** , tests/** ") == repeated
    assert selected(root, "--exclude", "src/**,tests/**") == ["data/a,b.py", "docs/d.py"]
    # A literal comma: the character class keeps it in one glob.
    assert selected(root, "--include", "data/a[,]b.py,docs/**") == ["data/a,b.py", "docs/d.py"]


# --- progress ----------------------------------------------------------------------------


def test_the_first_chunk_is_announced_before_the_model_answers(
    server: HTTPServer, tmp_path: Path
) -> None:
    """A slow model: the server holds the answer until the test has seen the first line."""
    release = threading.Event()

    def slow_chat(_: Request) -> Response:
        release.wait(60)
        body = ndjson_bytes(ollama_stream(answer()))
        return Response(body, mimetype="application/x-ndjson")

    serve_ollama_preflight(server)
    server.expect_request("/api/chat", method="POST").respond_with_handler(slow_chat)
    diff = tmp_path / "pr.diff"
    diff.write_text(APP_DIFF)
    env = {**os.environ, **GIT_ENV, "CI": "true", "REVIEWER_LOCK_DIR": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", "run", "--diff-file", str(diff), "--no-cache",
         "--ollama-url", server.url_for("/").rstrip("/"), "--format", "json"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # while the server still holds the answer
        assert not release.is_set()
        assert re.fullmatch(
            r"reviewer: reviewing chunk 1/1 \(~\d+ prompt tokens\); the first answer can take "
            r"minutes on a CPU\n",
            first,
        ), first
    finally:
        release.set()
        _, rest = proc.communicate(timeout=60)
    assert proc.returncode == 0, rest
    assert rest.splitlines()[0].startswith("reviewer: chunk 1/1 done")
    assert "complete: 1 file reviewed, 0 skipped; 0 findings; 1 model call, " in rest
