"""A GitLab merge request end to end: a real git repository, the real `reviewer run` against a
recording fake Ollama, then the real `reviewer post --host gitlab` against the fake GitLab, in
subprocesses, three times: the first review, a re-run, and a push that fixes one finding with
its re-review. Findings land inline on an added, a removed and an unchanged line, off-diff
ones in the summary, nothing twice, the fixed finding's discussion resolved, the status set."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer

from tests.diff.gitrepo_helpers import GitRepo
from tests.hosts.gitlab_fake import SPEC_NAME, TOKEN, FakeGitLab
from tests.hosts.spec import require_spec
from tests.model_fakes import RecordingChat, finding, run_env, serve_ollama_preflight
from tests.post.test_deletions_end_to_end import review

BASE = "".join(f"value_{n} = {n}\n" for n in range(1, 41))
EVAL = "value_10 = eval(request.args['v'])\n"
FIXED = "value_10 = int(request.args['v'])\n"
# Line 10 changed, lines 25-26 removed.
HEAD = BASE.replace("value_10 = 10\n", EVAL).replace("value_25 = 25\nvalue_26 = 26\n", "")
APP = "src/app.py"

EVAL_FINDING = finding(
    path=APP, line=10, severity="critical", category="security", title="eval on user input",
    message="Parse the number instead.", suggestion=FIXED,
)  # fmt: skip
STILL_THERE = [
    finding(path=APP, side="old", line=25, end_line=26, severity="high",
            title="Values 25 and 26 removed", message="Callers still read them."),
    # An unchanged line next to the change: inline, with its old and new numbers.
    finding(path=APP, line=12, severity="low", title="Magic number", message="Name it."),
    # Shown to the model (--context-lines 6) but not in GitLab's diff (3 lines of context).
    finding(path=APP, line=15, severity="medium", title="Far from the change",
            message="Outside GitLab's diff."),
]  # fmt: skip


def post(fake: FakeGitLab, findings: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**run_env(tmp_path), "REVIEWER_GITLAB_TOKEN": TOKEN}
    args = [
        "--host", "gitlab", "--api-url", fake.url, "--repo", fake.project_path,
        "--pr", str(fake.iid), "--findings", str(findings), "--fail-on", "critical",
    ]  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "reviewer", "post", *args],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def reviewed(
    repo: GitRepo, base: str, head: str, model: HTTPServer, scripted: list[dict[str, Any]],
    tmp_path: Path,
) -> Path:  # fmt: skip
    model.clear()
    serve_ollama_preflight(model)
    model.expect_request("/api/chat", method="POST").respond_with_handler(RecordingChat(scripted))
    out = tmp_path / f"findings-{head[:8]}.json"
    extra = ("--context-lines", "6", "--filter-mode", "diff_context")
    proc = review(repo, base, head, model, out, tmp_path, *extra)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["status"] == "complete" and len(doc["findings"]) == len(scripted), doc
    return out


def by_title(fake: FakeGitLab) -> dict[str, dict[str, Any]]:
    return {
        next(t for t in TITLES if t in d["notes"][0]["body"]): d for d in fake.diff_discussions()
    }


TITLES = ("eval on user input", "Values 25 and 26 removed", "Magic number", "Far from")


def test_a_merge_request_reviewed_posted_rerun_and_fixed(
    server: HTTPServer, httpserver: HTTPServer, tmp_path: Path
) -> None:
    require_spec(SPEC_NAME)
    repo = GitRepo(tmp_path / "repo")
    repo.write(APP, BASE)
    base = repo.commit("base")
    repo.write(APP, HEAD)
    head = repo.commit("eval a value, drop two")
    fake = FakeGitLab(httpserver)
    fake.push(repo.git("diff", base, head).decode(), base, head)

    first = reviewed(repo, base, head, server, [EVAL_FINDING, *STILL_THERE], tmp_path)
    posted = post(fake, first, tmp_path)
    assert posted.returncode == 1, posted.stderr  # a critical finding: --fail-on trips
    threads = by_title(fake)
    assert set(threads) == set(TITLES[:3])  # the far one is only in the summary
    where = {t: d["notes"][0]["position"] for t, d in threads.items()}
    assert (where["eval on user input"]["old_line"], where["eval on user input"]["new_line"]) == (
        None, 10,
    )  # fmt: skip
    assert (where["Magic number"]["old_line"], where["Magic number"]["new_line"]) == (12, 12)
    removed = where["Values 25 and 26 removed"]
    assert (removed["old_line"], removed["new_line"]) == (26, None) and removed["line_range"]
    assert "```suggestion:-0+0\n" + FIXED in threads["eval on user input"]["notes"][0]["body"]
    (summary,) = [n for n in fake.notes() if n["type"] is None]
    assert "Far from the change" in summary["body"] and "Not commented inline" in summary["body"]
    # Why it is not inline, in GitLab's own words.
    assert "lines not in the merge request\\'s current diff" in summary["body"]  # escaped
    assert "pull request" not in summary["body"]
    assert [(s["sha"], s["status"]) for s in fake.statuses] == [(head, "failed")]

    count = len(fake.notes())
    again = post(fake, first, tmp_path)
    assert again.returncode == 1, again.stderr
    assert len(fake.notes()) == count and "3 already present" in again.stderr
    (summary_again,) = [n for n in fake.notes() if n["type"] is None]
    assert summary_again["id"] == summary["id"]

    repo.write(APP, HEAD.replace(EVAL, FIXED))
    fixed = repo.commit("parse the value")
    fake.push(repo.git("diff", base, fixed).decode(), base, fixed)
    second = reviewed(repo, base, fixed, server, STILL_THERE, tmp_path)
    posted = post(fake, second, tmp_path)
    assert posted.returncode == 0, posted.stderr
    threads = by_title(fake)
    assert threads["eval on user input"]["resolved"] is True
    assert [threads[t]["resolved"] for t in TITLES[1:3]] == [False, False]
    assert len(fake.diff_discussions()) == 3 and len(fake.notes()) == count
    (summary_now,) = [n for n in fake.notes() if n["type"] is None]
    assert summary_now["id"] == summary["id"] and "eval on user input" not in summary_now["body"]
    assert [(s["sha"], s["status"]) for s in fake.statuses][-1] == (fixed, "success")
    fake.assert_valid()
