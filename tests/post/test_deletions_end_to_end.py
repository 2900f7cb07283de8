"""Deletions are reviewed, end to end: a pull request that only removes a permission check and
deletes a validation module, in a real git repository, through the real `reviewer run` (against
a recording fake Ollama) and the real `reviewer post` (against the fake GitHub)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.diff.gitrepo_helpers import GitRepo
from tests.model_fakes import RecordingChat, finding, run_env, serve_ollama_preflight
from tests.post.github_fake import TOKEN, FakeGitHub, load_spec

VIEWS_BASE = """\
from app.errors import Forbidden


def delete_user(request, user_id):
    user = request.user
    target = User.get(user_id)
    if not user.is_admin:
        raise Forbidden()
    target.delete()
    audit.log(user, "delete", target)
    return Response(status=204)
"""
VIEWS_HEAD = VIEWS_BASE.replace("    if not user.is_admin:\n        raise Forbidden()\n", "")
CHECKS = "def check_amount(value):\n    if value < 0:\n        raise ValueError(value)\n"


@pytest.fixture
def pull_request(tmp_path: Path) -> tuple[GitRepo, str, str]:
    repo = GitRepo(tmp_path / "repo")
    repo.write("app/views.py", VIEWS_BASE)
    repo.write("app/checks.py", CHECKS)
    base = repo.commit("base")
    repo.write("app/views.py", VIEWS_HEAD)
    repo.remove("app/checks.py")
    return repo, base, repo.commit("remove the admin check and the validation")


def review(
    repo: GitRepo, base: str, head: str, server: HTTPServer, out: Path, tmp_path: Path,
    *extra: str,
) -> subprocess.CompletedProcess[str]:
    args = [
        "--repo", str(repo.root), "--base", base, "--head", head,
        "--ollama-url", server.url_for("/").rstrip("/"), "--output", str(out),
        "--timeout", "10", "--retries", "1", "--no-cache", "--format", "json", *extra,
    ]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "run", *args],
        env=run_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def github_patch(repo: GitRepo, base: str, head: str, path: str) -> str:
    """The file's patch as GitHub's files API lists it: the hunks, without the git header."""
    text = repo.git("diff", base, head, "--", path).decode()
    return text[text.index("@@") :].rstrip("\n")


SCRIPTED = [
    # The removed check, by its old-file numbers: kept as a LEFT finding.
    finding(path="app/views.py", side="old", line=7, end_line=8, severity="critical",
            category="security", title="Permission check removed",
            message="Any user can now delete any user."),
    # The deleted file's validation: kept too.
    finding(path="app/checks.py", side="old", line=2, end_line=3, severity="high",
            title="Negative amounts are no longer refused", message="Restore the check."),
    # A removed line the chunk never showed (old line 1 is not removed): dropped.
    finding(path="app/views.py", side="old", line=1, title="Invented", message="x"),
    # Old numbers asked on the new side: new line 7 is context, not added: dropped.
    finding(path="app/views.py", side="new", line=7, title="Wrong side", message="x"),
]  # fmt: skip


def test_a_pull_request_that_only_deletes_is_reviewed_and_posted_on_the_left(
    pull_request: tuple[GitRepo, str, str],
    server: HTTPServer,
    httpserver: HTTPServer,
    tmp_path: Path,
) -> None:
    if load_spec() is None:
        pytest.skip("../shared/specs/github-rest-subset.json is missing beside the project")
    repo, base, head = pull_request
    serve_ollama_preflight(server)
    chat = RecordingChat(SCRIPTED)
    server.expect_request("/api/chat", method="POST").respond_with_handler(chat)
    out = tmp_path / "findings.json"

    proc = review(repo, base, head, server, out, tmp_path)

    assert proc.returncode == 0, proc.stderr  # no --fail-on: findings do not fail the run
    sent = "\n".join(chat.messages)
    # The removed lines reach the model with their old-file numbers, beside new-numbered context.
    assert "7-    if not user.is_admin:\n8-        raise Forbidden()" in sent
    assert "\n     target = User.get(user_id)\n" in sent
    # The deleted file is sent too, marked as deleted.
    assert '=== FILE "app/checks.py" (deleted file)' in sent
    assert "2-    if value < 0:" in sent
    doc: dict[str, Any] = json.loads(out.read_text())
    assert doc["status"] == "complete" and doc["skipped"] == []
    found = {(f["path"], f["side"], f["line"], f["end_line"]) for f in doc["findings"]}
    assert found == {("app/views.py", "LEFT", 7, 8), ("app/checks.py", "LEFT", 2, 3)}
    assert doc["stats"]["findings_dropped"] == 2
    views = next(f for f in doc["findings"] if f["path"] == "app/views.py")
    assert views["head_line"] == 6  # the head line the check followed

    gh = FakeGitHub(httpserver)
    gh.add_file("app/views.py", github_patch(repo, base, head, "app/views.py"))
    gh.add_file("app/checks.py", github_patch(repo, base, head, "app/checks.py"), "removed")
    gh.head_sha = head
    event = tmp_path / "event.json"
    pull = {"number": gh.number, "head": {"sha": head}}
    event.write_text(json.dumps({"action": "synchronize", "number": gh.number,
                                 "pull_request": pull}))  # fmt: skip
    post_env = {
        **run_env(tmp_path),
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": gh.repo,
        "GITHUB_API_URL": gh.url,
    }
    posted = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(out)],
        env=post_env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert posted.returncode == 0, posted.stderr
    assert gh.schema_errors == []
    comments = {c["path"]: c for c in gh.review_comments}
    for path, (first, last) in {"app/views.py": (7, 8), "app/checks.py": (2, 3)}.items():
        c = comments[path]
        assert (c["side"], c["start_side"], c["start_line"], c["line"]) == (
            "LEFT", "LEFT", first, last
        )
    assert "removed lines 7-8 of the old file" in comments["app/views.py"]["body"]
    (summary,) = gh.summaries()
    assert "Not commented inline" not in summary["body"]
