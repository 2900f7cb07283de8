"""`reviewer run --dry-run` through the real entry points (typer's CliRunner and a subprocess):
the listing, --show-prompts, --format json, every bad input's one-line error and exit code 2,
and credential scrubbing proven on git's own environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reviewer.chunks.prompt import SYSTEM_PROMPT, render_user_message
from reviewer.cli.app import app

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e",
    "GIT_CONFIG_NOSYSTEM": "1",
}
BASE_ENV = {
    "PATH": os.environ["PATH"],
    "HOME": "/nonexistent",
    "LANG": "C.UTF-8",
    **GIT_ENV,
}


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": "/nonexistent"}
    out = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, check=True)
    return out.stdout.decode().strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "app.py").write_text("def main():\n    return 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    base = git(root, "rev-parse", "HEAD")
    (root / "app.py").write_text("def main():\n    return 2\n\n\ndef extra():\n    pass\n")
    (root / "package-lock.json").write_text("{}\n")
    (root / "new.py").write_text("print('new')\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "head")
    return root, base


def reviewer(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", *args],
        env={**BASE_ENV, **(env or {})},
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        cwd=cwd,
    )
    return proc


def test_dry_run_lists_files_skips_and_chunks(repo: tuple[Path, str]) -> None:
    root, base = repo
    result = CliRunner().invoke(app, ["run", "--repo", str(root), "--base", base, "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Files to review (2):" in out
    assert "app.py" in out and "new.py" in out
    assert "lockfile" in out and "package-lock.json" in out
    assert "Chunks (1):" in out
    assert "nothing was sent" in out


def test_show_prompts_writes_each_request(repo: tuple[Path, str], tmp_path: Path) -> None:
    root, base = repo
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "chunk-0009.txt").write_text("stale")
    proc = reviewer("--repo", str(root), "--base", base, "--dry-run", "--show-prompts",
                    str(prompts), "--format", "json", "--no-description")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert [f["path"] for f in plan["files"]] == ["app.py", "new.py"]
    assert plan["totals"]["chunks"] == len(plan["chunks"]) == 1
    assert sorted(p.name for p in prompts.iterdir()) == [
        "chunk-0001.json", "chunk-0001.txt", "system-prompt.txt"
    ]
    user = (prompts / "chunk-0001.txt").read_text()
    assert user.startswith("<<<BEGIN UNTRUSTED DIFF>>>\n=== FILE \"app.py\"\n")
    assert "\n2     return 2\n" in user
    assert (prompts / "system-prompt.txt").read_text() == SYSTEM_PROMPT
    messages = json.loads((prompts / "chunk-0001.json").read_text())["messages"]
    assert messages == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user},
    ]
    assert user == render_user_message(user.split("\n", 1)[1].rsplit("\n", 1)[0])


def test_diff_file_from_stdin_and_empty_diff(repo: tuple[Path, str], tmp_path: Path) -> None:
    root, base = repo
    diff = subprocess.run(["git", "diff", base, "HEAD"], cwd=root, capture_output=True,
                          check=True).stdout
    proc = reviewer("--diff-file", "-", "--dry-run", stdin=diff, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Files to review (2):" in proc.stdout
    git(root, "commit", "-q", "--allow-empty", "-m", "nothing changed")
    empty = reviewer("--repo", str(root), "--base", "HEAD~1", "--dry-run")
    assert empty.returncode == 0, empty.stderr
    assert "Nothing to review" in empty.stdout


@pytest.mark.parametrize(
    ("args", "message", "hint"),
    [
        (["--base", "no-such-branch"], "unknown ref 'no-such-branch'", "fetch"),
        (["--base", "main", "--head", "nope"], "unknown ref 'nope'", "fetch"),
        (["--diff-file", "{tmp}/missing.diff"], "cannot read --diff-file", "readable file"),
        (["--staged", "--diff-file", "-"], "choose one diff source", "--staged"),
        (["--diff-file", "x.diff", "--base", "main"], "choose one diff source", "--diff-file"),
        ([], "no base to diff against", "--base REF"),
        (["--base", "main", "--ollama-url", "http://models.example.com:11434"],
         "outside the local-model policy", "--allow-remote-model"),
        (["--base", "main", "--num-ctx", "512"], "tokens for the diff", "--num-ctx"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    repo: tuple[Path, str], tmp_path: Path, args: list[str], message: str, hint: str
) -> None:
    root, _ = repo
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    proc = reviewer("--repo", str(root), "--dry-run", *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 2, proc.stderr
    assert lines[0].startswith("reviewer: error: ") and message in lines[0]
    assert lines[1].startswith("hint: ") and hint in lines[1]
    assert "Traceback" not in proc.stderr


def test_not_a_repository(tmp_path: Path) -> None:
    proc = reviewer("--repo", str(tmp_path), "--base", "main", "--dry-run")
    assert proc.returncode == 2
    assert "is not a git repository" in proc.stderr and "Traceback" not in proc.stderr


def test_remote_model_override(repo: tuple[Path, str]) -> None:
    root, base = repo
    url = "http://models.example.com:11434"
    proc = reviewer("--repo", str(root), "--base", base, "--dry-run", "--ollama-url", url,
                    "--allow-remote-model")
    assert proc.returncode == 0, proc.stderr
    by_env = reviewer("--repo", str(root), "--base", base, "--dry-run",
                      env={"OLLAMA_BASE_URL": url, "REVIEWER_ALLOW_REMOTE_MODEL": "true"})
    assert by_env.returncode == 0, by_env.stderr


SECRETS = {
    "GITHUB_TOKEN": "marker-ghtoken-7f3a",
    "GH_TOKEN": "marker-gh-19c2",
    "GITHUB_PAT": "marker-pat-5d1e",
    "ACTIONS_RUNTIME_TOKEN": "marker-runtime-8b8b",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "marker-oidc-2a2a",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://marker-oidc-url-3c3c.example",
    "AWS_SECRET_ACCESS_KEY": "marker-aws-secret-4d4d",
    "AWS_ACCESS_KEY_ID": "marker-aws-id-6e6e",
    "FOO_API_KEY": "marker-apikey-9f9f",
    "DB_PASSWORD": "marker-password-1a1a",
    "DEPLOY_SECRET": "marker-secret-0b0b",
    "SSH_AUTH_SOCK": "/tmp/marker-ssh-sock-7c7c",
}


def test_credentials_never_reach_git_or_output(repo: tuple[Path, str], tmp_path: Path) -> None:
    root, base = repo
    real_git = shutil.which("git")
    assert real_git is not None
    fake_bin = tmp_path / "fakebin"
    fake_bin.mkdir()
    dump = tmp_path / "git-env.txt"
    wrapper = fake_bin / "git"
    wrapper.write_text(f"#!/bin/sh\nenv >> '{dump}'\necho ---- >> '{dump}'\nexec '{real_git}' \"$@\"\n")
    wrapper.chmod(0o755)
    prompts = tmp_path / "prompts"
    env = {**SECRETS, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    proc = reviewer("--repo", str(root), "--base", base, "--debug", "--dry-run",
                    "--show-prompts", str(prompts), env=env)
    assert proc.returncode == 0, proc.stderr
    git_env = dump.read_text()
    assert git_env.count("----") >= 3  # git really ran through the wrapper
    assert "GIT_TERMINAL_PROMPT=0" in git_env
    written = "".join(p.read_text() for p in prompts.iterdir())
    assert "return 2" in written
    for name, value in SECRETS.items():
        for where in (proc.stdout, proc.stderr, git_env, written):
            assert value not in where, name
        assert f"{name}=" not in git_env
    debug_line = next(ln for ln in proc.stderr.splitlines() if "removed from the environment" in ln)
    for name in SECRETS:
        assert name in debug_line


def test_hostile_file_names_cannot_drive_the_terminal(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "base")
    (root / "evil\x1b[2J\x1b]0;title\x07.py").write_text("x = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "head")
    proc = reviewer("--repo", str(root), "--base", "HEAD~1", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "evil\\x1b[2J\\x1b]0;title\\x07.py" in proc.stdout


def test_rich_tables_on_a_terminal(
    repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from reviewer.plan.build import build_plan
    from reviewer.review.dryrun import show_dry_run
    from reviewer.settings.slices import DiffSettings, OutputSettings

    root, base = repo
    plan = build_plan(DiffSettings(repo=root, base=base), environ={})
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    show_dry_run(plan, OutputSettings(dry_run=True))
    out = capsys.readouterr().out
    for title in ("Files to review", "Skipped", "Chunks"):
        assert title in out
    assert "package-lock.json" in out and "lockfile" in out
    assert "nothing was sent" in out


def test_context_lines_flag(repo: tuple[Path, str]) -> None:
    """--context-lines sets the unchanged lines shown around each change; out of range is a
    usage error (exit 2) that names the flag."""
    root, base = repo

    def shown(*extra: str) -> dict[str, list[int]]:
        proc = reviewer("--repo", str(root), "--base", base, "--dry-run", "--format", "json",
                        *extra)
        assert proc.returncode == 0, proc.stderr
        files = json.loads(proc.stdout)["chunks"][0]["files"]
        return {f["path"]: f["context_lines"] for f in files}

    assert shown()["app.py"] == [1]  # the default, 2: the one unchanged line of this file
    assert shown("--context-lines", "0")["app.py"] == []
    bad = reviewer("--repo", str(root), "--base", base, "--dry-run", "--context-lines", "21")
    assert bad.returncode == 2 and "--context-lines" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_text_report_is_the_one_the_full_summary_gives(
    repo: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # The text report builds its summary without the chunks' line numbers (it prints none):
    # the same lines as from the whole summary the JSON report prints.
    from reviewer.plan.build import build_plan
    from reviewer.review.dryrun import _text_lines, plan_summary, show_dry_run
    from reviewer.settings.slices import DiffSettings, OutputSettings

    root, base = repo
    plan = build_plan(DiffSettings(repo=root, base=base), environ={})
    show_dry_run(plan, OutputSettings(dry_run=True))
    assert capsys.readouterr().out == "\n".join(_text_lines(plan_summary(plan))) + "\n"
    assert "added_lines" not in plan_summary(plan, line_numbers=False)["chunks"][0]["files"][0]


def test_a_dry_run_starts_without_rich(repo: tuple[Path, str]) -> None:
    # Start-up time matters for a dry run in a pre-commit hook: rich (a few tens of ms to
    # import) is loaded only to print rich tables on a terminal or to render the text format.
    root, base = repo
    argv = ["reviewer", "run", "--dry-run", "--repo", str(root), "--base", base]
    probe = (
        f"import runpy, sys\nsys.argv = {argv!r}\n"
        "try:\n    runpy.run_module('reviewer', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('LOADED ' + ' '.join(m for m in sys.modules if 'rich' in m))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], env=BASE_ENV, capture_output=True, text=True, check=False
    )
    assert "Dry run: nothing was sent" in proc.stdout, proc.stderr
    assert proc.stderr.endswith("LOADED "), proc.stderr
