"""A Gitea pull request reviewed and posted end to end: a real git repository, the real
`reviewer run` in a subprocess against a fake Ollama, then `reviewer post` in a Gitea Actions
environment (GITEA_ACTIONS, a real event file, the job's token) against the fake Gitea, three
times: the first post, a re-run, and a push that fixes one finding followed by a new review."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.diff.gitrepo_helpers import GitRepo
from tests.hosts import gitea_fake
from tests.hosts.gitea_fake import TOKEN, FakeGitea
from tests.hosts.spec import require_spec
from tests.model_fakes import RecordingChat, finding, run_env, serve_ollama_preflight

BASE = "".join(f"value_{n} = {n}\n" for n in range(1, 41))
HEAD = BASE.replace("value_10 = 10\n", "value_10 = 10 / zero\n").replace("value_30 = 30\n", "")
FIXED = HEAD.replace("value_10 = 10 / zero\n", "value_10 = 10 / one\n")
UTIL = "def check(x):\n    return eval(x)\n"

DIVISION = finding(line=10, title="Division by zero", message="zero is 0 here.")
REMOVED = finding(side="old", line=30, severity="medium", title="value_30 still used",
                  message="value_30 is read in main.py.")  # fmt: skip
# With --context-lines 8 the model sees line 3; Gitea's own diff (3 lines of context) does not
# have it: the summary does.
CONTEXT = finding(line=3, severity="low", title="Magic number", message="Name the 3.")
EVAL = finding(path="src/util.py", line=1, end_line=2, severity="critical", category="security",
               title="eval of input", message="`eval(x)` runs any code.")  # fmt: skip


def review(repo: GitRepo, base: str, head: str, model: HTTPServer, out: Path) -> None:
    args = [
        "--repo", str(repo.root), "--base", base, "--head", head,
        "--ollama-url", model.url_for("/").rstrip("/"), "--output", str(out),
        "--timeout", "10", "--retries", "1", "--no-cache", "--format", "json",
        "--context-lines", "8", "--filter-mode", "diff_context",
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", *args],
        env=run_env(out.parent), cwd=out.parent, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def post(fake: FakeGitea, findings: Path, base: str, head: str) -> subprocess.CompletedProcess[str]:
    """`reviewer post` as a Gitea Actions job runs it: the runner's variables and event file."""
    event = findings.parent / "event.json"
    pull = {"number": fake.index, "head": {"sha": head}, "base": {"sha": base, "ref": "main"}}
    event.write_text(json.dumps({"action": "synchronized", "number": fake.index,
                                 "pull_request": pull}))  # fmt: skip
    server = fake.url.removesuffix("/api/v1")
    env = {
        **run_env(findings.parent),
        "GITEA_ACTIONS": "true",
        "GITHUB_ACTIONS": "true",  # Gitea's runner sets it too
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REPOSITORY": f"{fake.owner}/{fake.repo}",
        "GITHUB_SERVER_URL": server,
        "GITHUB_API_URL": fake.url,
        "GITHUB_TOKEN": TOKEN,  # the job's token
    }
    args = ["--findings", str(findings), "--fail-on", "high"]
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "post", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def fingerprint_of(body: str) -> str:
    m = re.search(r"fingerprints=([\w.:-]+) -->\s*\Z", body)
    assert m, body
    return m.group(1)


def test_a_gitea_pull_request_end_to_end(
    server: HTTPServer, httpserver: HTTPServer, tmp_path: Path
) -> None:
    require_spec(gitea_fake.SPEC_NAME)
    repo = GitRepo(tmp_path / "repo")
    repo.write("src/app.py", BASE)
    base = repo.commit("base")
    repo.write("src/app.py", HEAD)
    repo.write("src/util.py", UTIL)
    head = repo.commit("divide, drop value_30, add util")
    serve_ollama_preflight(server)
    chat = RecordingChat([DIVISION, REMOVED, CONTEXT, EVAL])
    server.expect_request("/api/chat", method="POST").respond_with_handler(chat)
    # Inside Gitea Actions the job token may not read GET /user: it writes as gitea-actions.
    gitea = FakeGitea(httpserver, login="gitea-actions", user_scope=False)
    gitea.push(repo.git("diff", base, head).decode(), base, head)
    work = tmp_path / "work"
    work.mkdir()
    findings = work / "findings.json"

    review(repo, base, head, server, findings)
    doc = json.loads(findings.read_text())
    by_title = {f["title"]: f["fingerprint"] for f in doc["findings"]}
    assert set(by_title) == {
        "Division by zero",
        "value_30 still used",
        "Magic number",
        "eval of input",
    }

    first = post(gitea, findings, base, head)
    assert first.returncode == 1, first.stderr  # a critical finding and --fail-on high
    inline = {fingerprint_of(c["body"]): c for c in gitea.review_comments}
    assert {fp: (c["path"], c["position"], c["original_position"]) for fp, c in inline.items()} == {
        by_title["Division by zero"]: ("src/app.py", 10, 0),
        by_title["value_30 still used"]: ("src/app.py", 0, 30),
        by_title["eval of input"]: ("src/util.py", 2, 0),  # a range, on its last line
    }
    assert all(c["diff_hunk"] for c in gitea.review_comments)
    (summary,) = gitea.issue_comments
    assert summary["user"]["login"] == "gitea-actions"
    assert "Magic number" in summary["body"] and "lines not in the pull request" in summary["body"]
    assert [(s["sha"], s["context"], s["status"]) for s in gitea.statuses] == [
        (head, "reviewer", "failure")
    ]
    gitea.assert_valid()

    again = post(gitea, findings, base, head)
    assert again.returncode == 1, again.stderr
    assert len(gitea.reviews) == 1 and len(gitea.review_comments) == 3  # nothing twice
    assert [c["id"] for c in gitea.issue_comments] == [summary["id"]]  # edited in place
    assert len(gitea.statuses) == 2 and gitea.statuses[-1]["sha"] == head

    repo.write("src/app.py", FIXED)
    fixed_head = repo.commit("divide by one")
    gitea.push(repo.git("diff", base, fixed_head).decode(), base, fixed_head)
    chat.findings = [REMOVED, CONTEXT, EVAL]
    review(repo, base, fixed_head, server, findings)
    third = post(gitea, findings, base, fixed_head)
    assert third.returncode == 1, third.stderr
    assert len(gitea.review_comments) == 3  # the others were already posted
    gone = inline[by_title["Division by zero"]]
    assert gone["resolver"] is None  # Gitea's API cannot resolve it: it stays open ...
    (summary,) = gitea.issue_comments
    assert "Division by zero" not in summary["body"]  # ... and the summary lists what is left
    assert "resolved" not in summary["body"].lower() and "resolved" not in third.stderr.lower()
    assert gitea.statuses[-1]["sha"] == fixed_head and gitea.statuses[-1]["status"] == "failure"
    gitea.assert_valid()
    assert TOKEN not in first.stderr + again.stderr + third.stderr
