"""Two real llama.cpp servers on the same GGUF give the same findings document as one: the
CLI as a subprocess with `--base-url A --base-url B`, then with A alone, temperature 0 and a
fixed seed; the documents differ only in who answered each chunk and in the timings.

Both servers are started for this test with llama.cpp's prompt cache off: a reused prompt
prefix changes the last digits of the logits, so with it on an answer depends on what the
server saw before, and one server reviewing both chunks would not match two reviewing one each.
Kept small for CI (2 cores): four short files in two chunks, a small --num-predict."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .llama import LlamaServer, model_info, read_url, skip_reason, spawn, stop
from .test_run_real_model import RUN_TIMEOUT_S, _commit, _environment, _git

pytestmark = pytest.mark.e2e

HEAD_FILES = {
    "users.py": (
        "import sqlite3\n\n\ndef find_user(db, name):\n"
        "    query = \"SELECT * FROM users WHERE name = '\" + name + \"'\"\n"
        "    return db.execute(query).fetchall()\n"
    ),
    "maths.py": "def average(values):\n    return sum(values) / 0\n",
    "shell.py": "import os\n\n\ndef run(cmd):\n    os.system('sh -c ' + cmd)\n",
    "files.py": "def read(path):\n    return open('/srv/' + path).read()\n",
}


@pytest.fixture(scope="module")
def fresh_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[LlamaServer]]:
    """Two llama.cpp servers on the small GGUF, without a prompt cache."""
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    procs, started = [], []
    try:
        for n in range(2):
            log = tmp_path_factory.mktemp(f"llama-fresh-{n}") / "server.log"
            procs.append(spawn(log, "--no-cache-prompt"))
            base_url = read_url(procs[-1], log)
            model, n_ctx = model_info(base_url)
            started.append(LlamaServer(base_url=base_url, model=model, n_ctx=n_ctx, log=log))
        yield started
    finally:
        for proc in procs:
            stop(proc)


def _review(repo: Path, base: str, head: str, model: str, urls: list[str], out: Path) -> int:
    args = [
        sys.executable, "-m", "reviewer", "run", "--repo", str(repo), "--base", base,
        "--head", head, "--backend", "openai", "--model", model, "--num-ctx", "2048",
        "--num-predict", "256", "--max-findings", "1", "--no-description", "--no-cache",
        "--timeout", str(RUN_TIMEOUT_S), "--output", str(out),
    ]  # fmt: skip
    for url in urls:
        args += ["--base-url", url]
    done = subprocess.run(
        args, capture_output=True, text=True, env=_environment(), timeout=RUN_TIMEOUT_S + 60
    )
    assert out.is_file(), f"exit {done.returncode}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.returncode


def _without_servers(document: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(json.dumps(document))
    document["model"].pop("servers")
    document.pop("chunks")
    document["stats"].pop("duration_s")
    return document


def test_two_servers_give_the_same_document_as_one(
    fresh_servers: list[LlamaServer], tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "--quiet", "-b", "main")
    _git(repo, "config", "user.email", "e2e@example.invalid")
    _git(repo, "config", "user.name", "e2e")
    _git(repo, "config", "commit.gpgsign", "false")
    base = _commit(repo, {"util.py": "x = 1\n"}, "base")
    head = _commit(repo, HEAD_FILES, "head")
    urls = [s.base_url for s in fresh_servers]
    model = fresh_servers[0].model
    assert fresh_servers[1].model == model
    pair, one = tmp_path / "pair.json", tmp_path / "one.json"
    pair_code = _review(repo, base, head, model, urls, pair)
    one_code = _review(repo, base, head, model, urls[:1], one)
    both, alone = json.loads(pair.read_text()), json.loads(one.read_text())
    assert both["stats"]["chunks"] >= 2
    assert pair_code == one_code
    assert _without_servers(both) == _without_servers(alone)
    assert [s["url"] for s in both["model"]["servers"]] == urls
    assert {c["server"] for c in both["chunks"]} <= set(urls)
    assert [c["chunk"] for c in both["chunks"]] == [c["chunk"] for c in alone["chunks"]]
