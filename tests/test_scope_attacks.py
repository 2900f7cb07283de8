"""Issue 11: nothing the pull request controls decides what is reviewed. Each attack is mounted
through a real git repository, the real CLI in a subprocess and the recording fake Ollama: the
planted code reaches the model, or the run says it was not reviewed (status, exit code and the
named file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.diff.gitrepo_helpers import GitRepo
from tests.model_fakes import (
    answer,
    review_chats,
    serve_ollama_chat,
    serve_ollama_preflight,
)

PLANTED = "os.system(planted_payload)"
CODE = f"import os\n{PLANTED}\n"


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str], out: Path, sent: str) -> None:
        self.code, self.stderr, self.stdout = proc.returncode, proc.stderr, proc.stdout
        self.doc: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
        self.sent = sent  # every chat request body the model server received

    def unreviewed(self) -> dict[str, str]:
        return {
            f["path"]: g["reason"]
            for f in self.doc["coverage"]["files"]
            for g in f["not_seen"]
            if not g["policy"]
        }


@pytest.fixture
def review(server: HTTPServer, env: dict[str, str], tmp_path: Path) -> Any:
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())

    def run(repo: GitRepo, *args: str, **extra_env: str) -> Run:
        out = tmp_path / "findings.json"
        out.unlink(missing_ok=True)
        server.clear_log()
        proc = subprocess.run(
            [sys.executable, "-m", "reviewer", "run", "--repo", str(repo.root),
             "--ollama-url", server.url_for("/").rstrip("/"), "--no-cache",
             "--output", str(out), *args],
            env={**env, **extra_env}, cwd=repo.root, capture_output=True, text=True,
            timeout=120, check=False,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        sent = "\n".join(r.get_data(as_text=True) for r in review_chats(server))
        return Run(proc, out, sent)

    return run


def _repo(tmp_path: Path, files: dict[str, bytes | str]) -> tuple[GitRepo, str]:
    repo = GitRepo(tmp_path / "repo")
    repo.write("README.md", "base\n")
    for path, content in files.items():
        repo.write(path, content)
    return repo, repo.commit("base")


# --- 1. git attributes from the pull request's checkout -------------------------------------


@pytest.mark.parametrize("attribute", ["* -diff", "* binary", "* -text", "* diff=evil"])
def test_a_gitattributes_planted_by_the_pr_cannot_make_code_binary(
    tmp_path: Path, review: Any, attribute: str
) -> None:
    repo, base = _repo(tmp_path, {"app.py": "x = 1\n"})
    repo.write(".gitattributes", attribute + "\n")
    repo.write("app.py", "x = 1\n" + CODE)
    repo.commit("pr")  # CI: the head, with its .gitattributes, is the checked-out work tree
    run = review(repo, "--base", base)
    assert run.code == 0, run.stderr
    assert PLANTED in run.sent
    assert run.doc["status"] == "complete" and not run.doc["skipped"]


def test_a_gitattributes_cannot_hide_staged_code(tmp_path: Path, review: Any) -> None:
    repo, _ = _repo(tmp_path, {"app.py": "x = 1\n"})
    repo.write(".gitattributes", "* -diff\n")
    repo.write("app.py", "x = 1\n" + CODE)
    repo.git("add", "-A")
    run = review(repo, "--staged")
    assert run.code == 0, run.stderr
    assert PLANTED in run.sent


def test_a_nul_byte_planted_in_a_text_file_does_not_make_it_binary(
    tmp_path: Path, review: Any
) -> None:
    repo, base = _repo(tmp_path, {"app.js": "let x = 1;\n"})
    repo.write("app.js", "let x = 1;\n// \x00\n" + PLANTED + ";\n")
    repo.commit("pr")
    run = review(repo, "--base", base)
    assert run.code == 0, run.stderr
    assert PLANTED in run.sent and "\\x00" in run.sent  # the NUL shown escaped


def test_a_new_binary_is_unreviewed_an_existing_one_is_policy(
    tmp_path: Path, review: Any
) -> None:
    noise = bytes(range(256)) * 40
    repo, base = _repo(tmp_path, {"logo.png": b"\x89PNG\x00" + noise})
    repo.write("logo.png", b"\x89PNG\x00" + noise[::-1])
    repo.commit("changed image")
    run = review(repo, "--base", base)
    assert run.code == 0, run.stderr
    assert run.doc["skipped"][0]["reason"] == "binary" and run.doc["skipped"][0]["policy"]
    repo.write("tool.bin", b"\x7fELF\x00" + noise)
    repo.commit("new binary")
    run = review(repo, "--base", base)
    assert run.code == 3 and run.doc["status"] == "partial"
    assert run.unreviewed() == {"tool.bin": "binary"}
    assert "tool.bin (binary)" in run.stderr
    assert review(repo, "--base", base, "--accept-unreviewed", "binary").code == 0


def test_a_large_binary_never_reaches_the_text_diff(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {})
    repo.write("blob.dat", os.urandom(8 * 1024 * 1024))
    repo.write("app.py", CODE)
    repo.commit("pr")
    run = review(repo, "--base", base, "--accept-unreviewed", "binary")
    assert run.code == 0, run.stderr
    assert PLANTED in run.sent and len(run.sent) < 100_000


# --- 2. --config from the base revision -----------------------------------------------------


def test_config_inside_the_repository_is_read_from_the_base(
    tmp_path: Path, review: Any
) -> None:
    repo, base = _repo(tmp_path, {"ci/reviewer.toml": "exclude = ['docs/**']\n"})
    # The PR's attempt (lines added only: removed lines are accounted separately).
    repo.write("ci/reviewer.toml", "include = ['none/**']\nexclude = ['docs/**']\n")
    repo.write("app.py", CODE)
    repo.commit("pr")
    run = review(repo, "--base", base, "--config", "ci/reviewer.toml")
    assert run.code == 0, run.stderr
    assert PLANTED in run.sent
    missing = review(repo, "--base", base, "--config", "ci/other.toml")
    assert missing.code == 2
    assert "read from the base revision" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) <= 2  # message and hint


def test_config_outside_the_repository_is_read_from_disk(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {})
    repo.write("app.py", CODE)
    repo.write("docs/x.md", "doc\n")
    repo.commit("pr")
    site = tmp_path / "site.toml"
    site.write_text("exclude = ['docs/**']\n")
    run = review(repo, "--base", base, "--config", str(site))
    assert run.code == 0, run.stderr
    assert {s["path"]: s["policy"] for s in run.doc["skipped"]} == {"docs/x.md": True}


def test_accept_unreviewed_in_the_prs_config_is_ignored(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {".reviewer.toml": "accept_unreviewed = ['lockfile']\n"})
    repo.write(".reviewer.toml", "accept_unreviewed = ['vendored', 'generated']\n")
    repo.write("vendor/lib.py", CODE)
    repo.commit("pr")
    run = review(repo, "--base", base)
    assert run.code == 3 and run.unreviewed()["vendor/lib.py"] == "vendored"


# --- 3. heuristic exemptions the pull request creates ---------------------------------------


def _rename(repo: GitRepo, old: str, new: str, extra: str = "") -> None:
    (repo.root / new).parent.mkdir(parents=True, exist_ok=True)
    repo.git("mv", old, new)
    if extra:
        repo.write(new, (repo.root / new).read_text() + extra)
    repo.commit("pr")


BODY = "".join(f"def f{i}():\n    return {i}\n" for i in range(20))


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("vendor/app.py", "vendored"),
        ("third_party/x/app.py", "vendored"),
        ("app.min.js", "minified"),
        ("yarn.lock", "lockfile"),
        ("go.sum", "lockfile"),
    ],
)
def test_a_file_moved_into_an_exempt_name_is_unreviewed(
    tmp_path: Path, review: Any, new: str, reason: str
) -> None:
    repo, base = _repo(tmp_path, {"app.py": BODY})
    _rename(repo, "app.py", new, PLANTED + "\n")
    run = review(repo, "--base", base)
    assert run.code == 3, run.stderr
    assert run.doc["status"] == "partial"
    assert run.unreviewed() == {new: reason}
    assert f"{new} ({reason})" in run.stderr


def test_a_generated_marker_added_by_the_pr_is_unreviewed(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {"app.py": BODY})
    repo.write("app.py", "# @generated\n" + BODY + PLANTED + "\n")
    repo.commit("pr")
    run = review(repo, "--base", base)
    assert run.code == 3 and run.unreviewed() == {"app.py": "generated"}
    assert run.sent == ""  # nothing else to send: no model call


def test_a_file_generated_at_base_is_left_out_by_policy(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {"gen.py": "# Code generated by x. DO NOT EDIT.\n" + BODY})
    repo.write("gen.py", "# Code generated by x. DO NOT EDIT.\n" + BODY + "x = 2\n")
    repo.commit("regenerated")
    run = review(repo, "--base", base)
    assert run.code == 0, run.stderr
    assert run.doc["status"] == "complete"
    assert run.doc["coverage"]["added_policy"] == 1 and run.sent == ""


def test_lockfiles_by_content_or_at_base_are_policy(tmp_path: Path, review: Any) -> None:
    lock = '{\n  "name": "x",\n  "version": "1.0.0",\n  "lockfileVersion": 3,\n  "packages": {}\n}\n'
    repo, base = _repo(tmp_path, {"yarn.lock": "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT "
                                               "THIS FILE DIRECTLY.\n"})
    repo.write("package-lock.json", lock)  # new, but a lockfile by its content
    repo.write("yarn.lock", (repo.root / "yarn.lock").read_text() + "a@1:\n  version 1\n")
    repo.write("sub/go.sum", "golang.org/x/text v0.3.0 h1:g61tztE5qeGQ89tm6NTjjM9VPIm088od1l6aSorWRWg=\n")
    repo.commit("deps")
    run = review(repo, "--base", base)
    assert run.code == 0, run.stderr
    assert {s["path"]: s["policy"] for s in run.doc["skipped"]} == {
        "package-lock.json": True, "sub/go.sum": True, "yarn.lock": True,
    }
    repo.write("composer.lock", CODE)  # a lockfile by name only
    repo.commit("fake lock")
    assert review(repo, "--base", base).unreviewed() == {"composer.lock": "lockfile"}


def test_new_vendored_files_are_unreviewed_unless_the_base_config_accepts_them(
    tmp_path: Path, review: Any
) -> None:
    repo, base = _repo(tmp_path, {})
    repo.write("vendor/lib/x.py", CODE)
    repo.commit("pr")
    run = review(repo, "--base", base)
    assert run.code == 3 and run.unreviewed() == {"vendor/lib/x.py": "vendored"}
    assert review(repo, "--base", base, "--accept-unreviewed", "vendored").code == 0
    # The same acceptance from the base branch's config.
    repo2, base2 = _repo(tmp_path / "two", {".reviewer.toml": "accept_unreviewed = ['vendored']\n"})
    repo2.write("vendor/lib/x.py", CODE)
    repo2.commit("pr")
    run = review(repo2, "--base", base2)
    assert run.code == 0, run.stderr
    assert run.doc["status"] == "complete" and run.doc["coverage"]["added_policy"] == 2


def test_a_file_over_max_file_lines_is_unreviewed(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {"app.py": "x = 1\n"})
    repo.write("app.py", "x = 1\n" + "".join(f"y{i} = {i}\n" for i in range(50)) + PLANTED + "\n")
    repo.commit("pr")
    run = review(repo, "--base", base, "--max-file-lines", "20")
    assert run.code == 3 and run.unreviewed() == {"app.py": "too_large"}
    assert run.doc["coverage"]["added_unreviewed"] == 51


def test_one_long_line_makes_a_file_unreviewed_not_silently_minified(
    tmp_path: Path, review: Any
) -> None:
    repo, base = _repo(tmp_path, {"app.py": "x = 1\n"})
    repo.write("app.py", "x = 1\n" + PLANTED + "  # " + "x" * 5000 + "\n")
    repo.commit("pr")
    run = review(repo, "--base", base)
    assert run.code == 3 and run.unreviewed() == {"app.py": "minified"}


def test_a_line_too_long_for_any_chunk_is_cut_and_the_rest_reviewed(
    tmp_path: Path, review: Any
) -> None:
    repo, base = _repo(tmp_path, {"app.py": "x = 1\n"})
    repo.write("app.py", "x = 1\n" + "s = '" + "a" * 60_000 + "'\n" + PLANTED + "\n")
    repo.commit("pr")
    (tmp_path / "cfg.toml").write_text("skip_minified = false\n")
    run = review(repo, "--base", base, "--config", str(tmp_path / "cfg.toml"))
    assert run.code == 0, run.stderr
    assert PLANTED in run.sent and "more characters]" in run.sent
    assert run.doc["coverage"]["added_seen"] == 2 and run.doc["status"] == "complete"


# --- 5. and 6. accounting, status, exit code and what people read ---------------------------


def test_removed_lines_are_seen_and_counted(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {"auth.py": "def check(user):\n    require_admin(user)\n"})
    repo.write("auth.py", "def check(user):\n")
    repo.commit("drop the permission check")
    run = review(repo, "--base", base)
    cov = run.doc["coverage"]
    assert cov["removed"] == 1 and cov["removed_seen"] == 1 and cov["removed_unreviewed"] == 0
    assert run.code == 0 and "require_admin" in run.sent


def test_local_llm_optional_does_not_forgive_unreviewed_code(
    tmp_path: Path, review: Any
) -> None:
    repo, base = _repo(tmp_path, {})
    repo.write("vendor/x.py", CODE)
    repo.write("app.py", "y = 1\n")
    repo.commit("pr")
    run = review(repo, "--base", base, LOCAL_LLM_OPTIONAL="true")
    assert run.code == 3 and "vendor/x.py (vendored)" in run.stderr


def test_outputs_name_what_was_not_reviewed(tmp_path: Path, review: Any) -> None:
    repo, base = _repo(tmp_path, {})
    for i in range(40):
        repo.write(f"vendor/m{i:02}.py", CODE)
    repo.write("docs/x.md", "doc\n")
    repo.commit("pr")
    text = review(repo, "--base", base, "--exclude", "docs/**", "--format", "text")
    assert text.code == 3
    assert "Not reviewed (40):" in text.stdout and "vendor/m00.py (vendored" in text.stdout
    assert "Left out by policy (1):" in text.stdout
    md = review(repo, "--base", base, "--exclude", "docs/**", "--format", "markdown")
    assert "#### Not reviewed (40)" in md.stdout and "... and 10 more" in md.stdout
    assert "Partial review" in md.stdout
    dry = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", "--dry-run", "--repo", str(repo.root),
         "--base", base], capture_output=True, text=True, check=False,
        env={k: v for k, v in os.environ.items() if k in ("PATH", "HOME")},
    )
    assert "vendored (UNREVIEWED)" in dry.stdout and "Not reviewed: 80 added" in dry.stdout


def test_the_schema_shows_the_accounting(env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "schema"], capture_output=True, text=True,
        env=env, check=True,
    )
    schema = json.loads(proc.stdout)
    assert "coverage" in schema["properties"]
    defs = schema["$defs"]
    assert {"added_seen", "removed_unreviewed", "files"} <= set(defs["Coverage"]["properties"])
    assert {"reason", "policy"} <= set(defs["NotSeen"]["properties"])
    assert "policy" in defs["SkippedFile"]["properties"]


def test_a_long_line_at_base_does_not_make_new_code_minified_by_policy(
    tmp_path: Path, review: Any
) -> None:
    # One data line at base, in an ordinary file: replacing it with another long line plus
    # code keeps the added lines' mean over 300 and the removed line's too.
    repo, base = _repo(tmp_path, {"data.py": BODY + "TABLE = '" + "a" * 4000 + "'\n"})
    repo.write("data.py", BODY + "TABLE = '" + "b" * 4000 + "'\n" + PLANTED + "\n")
    repo.commit("pr")
    run = review(repo, "--base", base)
    assert run.code == 3 and run.unreviewed() == {"data.py": "minified"}


def test_a_minified_file_at_base_stays_policy(tmp_path: Path, review: Any) -> None:
    line = "var a=function(){return 1};" * 40
    repo, base = _repo(tmp_path, {"dist/app.js": f"{line}\n{line}\n"})
    repo.write("dist/app.js", f"{line}\n{line}x\n")
    repo.commit("rebuilt")
    run = review(repo, "--base", base)
    assert run.code == 0, run.stderr
    assert run.doc["skipped"][0]["reason"] == "minified" and run.doc["skipped"][0]["policy"]


def _gitlink(repo: GitRepo, path: str, sha: str) -> None:
    """Point a submodule entry (a gitlink, mode 160000) at `sha` in the index: what a pull
    request that adds or bumps a submodule commits."""
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},{path}")
    repo.git("commit", "-q", "-m", f"submodule {path} at {sha[:7]}")


def test_a_submodule_the_pr_adds_is_unreviewed_a_bump_is_policy(
    tmp_path: Path, review: Any
) -> None:
    repo, base = _repo(tmp_path, {})
    one, two = base, repo.commit("another commit to point at")
    _gitlink(repo, "libs/kept", one)
    base = repo.git("rev-parse", "HEAD").decode().strip()
    _gitlink(repo, "libs/kept", two)  # a bump of a submodule the base already has
    run = review(repo, "--base", base)
    assert run.code == 0, run.stderr
    assert run.doc["skipped"] == [
        {"path": "libs/kept", "reason": "submodule", "policy": True, "added": 1, "removed": 1}
    ]
    _gitlink(repo, "libs/planted", one)  # a submodule the pull request brings in
    run = review(repo, "--base", base)
    assert run.code == 3 and run.doc["status"] == "partial"
    assert run.unreviewed() == {"libs/planted": "submodule"}
    assert review(repo, "--base", base, "--accept-unreviewed", "submodule").code == 0
