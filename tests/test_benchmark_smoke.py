"""Keeps benchmarks/ from rotting: the PR generator, the fake server and part 1 at the smallest
size, run for real. No timing assertions: timings belong to the benchmark, not the suite."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import fakeserver  # noqa: E402
import genrepo  # noqa: E402


def changed_files(repo: Path, rev_range: str) -> list[str]:
    return genrepo.git(repo, "diff", "--name-only", rev_range).split()


@pytest.mark.parametrize(("lines", "files"), [(1, None), (250, 3), (1_000, None)])
def test_generator_makes_exactly_the_requested_diff(
    tmp_path: Path, lines: int, files: int | None
) -> None:
    pr = genrepo.generate_pr(tmp_path, lines, files=files)
    assert pr.changed_lines == lines
    assert pr.files == (files or max(1, lines // genrepo.LINES_PER_FILE))
    assert sorted(changed_files(pr.repo, "base...head")) == sorted(pr.paths)


def test_one_file_push_touches_one_file(tmp_path: Path) -> None:
    pr = genrepo.generate_pr(tmp_path, 300)
    pushed = genrepo.push_one_file(pr, 2)
    assert changed_files(pr.repo, "head~1..head") == [pushed] == [pr.paths[2]]


def test_fake_server_answers_like_ollama() -> None:
    with fakeserver.fake_ollama("m") as (url, counters):
        assert httpx.get(f"{url}/api/version").json()["version"]
        tags = httpx.get(f"{url}/api/tags").json()
        assert tags["models"][0]["name"] == "m"
        body = {"model": "m", "messages": [{"role": "user", "content": "x" * 40}]}
        lines = httpx.post(f"{url}/api/chat", json=body).text.splitlines()
        assert json.loads(json.loads(lines[0])["message"]["content"]) == {"findings": []}
        assert json.loads(lines[-1])["done"] is True
        single = httpx.post(f"{url}/api/chat", json={**body, "stream": False}).json()
        assert single["message"]["content"] == fakeserver.ANSWER
        assert counters.chat_calls == 2


@pytest.mark.skipif(
    importlib.util.find_spec("reviewer.plan") is None, reason="the diff pipeline has not landed"
)
def test_quick_part_one_runs(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--parts", "tool", "--sizes", "1",
         "--repeat", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads((out / "results.json").read_text())
    [row] = results["tool"]
    assert row["changed_lines"] == 1
    assert row["dry_run_s"] > 0
    assert row["dry_run_rss_mb"] > 0
    assert "changed lines" in (out / "table.md").read_text()
