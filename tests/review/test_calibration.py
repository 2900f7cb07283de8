"""The estimate's calibration through real parts: the real CLI in a subprocess against fake
llama.cpp, vLLM and Ollama servers on 127.0.0.1 that count tokens by a known rule. The chunks'
estimates track the real counts within [1.0, 1.1], a re-run on the same head makes no model
call, the calibration is kept per digest (and a corrupt one ignored), and a request the server
counts too long is never sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from reviewer.chunks.calibration import MARGIN, calibration_sample, sample_estimate, scale_from
from reviewer.chunks.chunking import chunk_budget, is_group_boundary
from reviewer.chunks.prompt import prompt_overhead_tokens
from reviewer.chunks.scale import scaled
from tests.model_fakes import DIGEST, serve_ollama_preflight
from tests.token_fakes import (
    CountingServer,
    OllamaChat,
    Tokenizer,
    serve_llama_cpp,
    serve_vllm,
    template,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "reviewer"
# Real code of ours, as new files: about 30,000 estimated tokens, several chunks at 8,192.
SOURCES = (
    "review/loop.py",
    "review/cache.py",
    "chunks/chunking.py",
    "backends/http.py",
    "diff/sources.py",
    "formats/sanitize.py",
)
OTHER_DIGEST = "0" * 12 + DIGEST[12:]


def new_file_diff(path: str, text: str) -> str:
    lines = text.splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    return (
        f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
        f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}"
    )


@pytest.fixture
def code_diff(tmp_path: Path) -> Path:
    path = tmp_path / "pr.diff"
    path.write_text("".join(new_file_diff(f"app/{s}", (SRC / s).read_text()) for s in SOURCES))
    return path


def run(
    server: HTTPServer, env: dict[str, str], diff: Path, *extra: str, backend: str = "ollama"
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    out = diff.parent / "findings.json"
    out.unlink(missing_ok=True)
    where = "--ollama-url" if backend == "ollama" else "--base-url"
    args = [
        "--diff-file",
        str(diff),
        "--backend",
        backend,
        where,
        server.url_for("/").rstrip("/"),
        "--output",
        str(out),
        "--timeout",
        "10",
        "--retries",
        "0",
        "--debug",
        *extra,
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "run", *args],
        env=env,
        cwd=diff.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    doc: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    return proc, doc


def dry_run_chunks(env: dict[str, str], diff: Path, *extra: str) -> int:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "run",
            "--diff-file",
            str(diff),
            "--dry-run",
            "--format",
            "json",
            *extra,
        ],
        env=env,
        cwd=diff.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return int(json.loads(proc.stdout)["totals"]["chunks"])


def ratio(doc: dict[str, Any]) -> float:
    s = doc["stats"]
    return float(s["estimated_prompt_tokens"]) / s["prompt_tokens"]


def calibration_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("debug: calibration:"))


# --- the scale on its own -------------------------------------------------------------------


def test_the_scale_follows_the_count_with_its_margin_and_refuses_a_doubtful_one() -> None:
    estimate = sample_estimate()
    real = estimate // 2
    scale = scale_from(real)
    assert scale is not None
    assert real * MARGIN <= scale * estimate < real * MARGIN + estimate / 1000 + 1
    assert scale_from(0) is None  # no count
    assert scale_from(estimate // 10) is None  # a prompt cache that hid most of the prompt
    assert scale_from(estimate * 10) is None  # not a tokenizer


@pytest.mark.parametrize("scale", [0.41, 0.66, 1.0, 1.37, 3.9])
def test_a_scaled_budget_keeps_the_scaled_prompt_within_the_context(scale: float) -> None:
    budget = chunk_budget(8192, 1024, scale=scale)
    assert scaled(prompt_overhead_tokens() + budget, scale) <= 8192 - 1024
    assert scaled(prompt_overhead_tokens() + budget + 2, scale) > 8192 - 1024 - 2


# --- servers that count exactly -------------------------------------------------------------


@pytest.mark.parametrize("serve", [serve_llama_cpp, serve_vllm], ids=["llama.cpp", "vllm"])
def test_the_servers_count_packs_chunks_to_the_context_within_1_0_to_1_1(
    server: HTTPServer, env: dict[str, str], code_diff: Path, serve: Any
) -> None:
    state = CountingServer()
    serve(server, state)
    raw_chunks = dry_run_chunks(env, code_diff, "--no-cache")
    proc, doc = run(server, env, code_diff, backend="openai")
    assert proc.returncode == 0, proc.stderr
    assert "tokenize" in calibration_line(proc.stderr)
    assert 1.0 <= ratio(doc) <= 1.1, proc.stderr[-3000:]
    # Every request fitted what the context leaves beside the answer, and the chunks used it:
    # fewer of them than the raw estimate cuts.
    assert max(state.chats) <= 8192 - 1024
    assert doc["stats"]["chunks"] < raw_chunks
    assert f"{ratio(doc):.2f}x)" in proc.stderr  # the summary line shows the ratio


def test_a_request_the_server_counts_too_long_is_never_sent(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    # "q" costs this tokenizer 8 tokens, where the estimate counts 4 letters a token: a file of
    # q's is 32 times longer than estimated, more than any scale the chunks are cut again with.
    state = CountingServer(tokenizer=Tokenizer(fine="q", per_fine=8))
    serve_llama_cpp(server, state)
    diff = tmp_path / "pr.diff"
    planted = "\n".join("q" * 120 for _ in range(40))
    # In a chunk group of its own (chunks/chunking.py), so the refusal takes no other file along.
    name = next(
        f"app/planted{i}.txt" for i in range(100) if is_group_boundary(f"app/planted{i}.txt")
    )
    diff.write_text(
        new_file_diff(name, planted)
        + new_file_diff("app/cache.py", (SRC / "review/cache.py").read_text())
    )
    proc, doc = run(server, env, diff, backend="openai")
    assert proc.returncode == 3, proc.stderr
    kinds = [e["kind"] for e in doc["errors"]]
    assert "prompt_too_long" in kinds
    assert "by the server's count" in json.dumps(doc["errors"])
    # Nothing over the room reached the model; the other file was still reviewed.
    assert state.chats and max(state.chats) <= 8192 - 1024
    assert doc["status"] == "partial"


def test_a_diff_denser_than_the_sample_is_cut_again_to_fit_the_servers_count(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    # "e" is a token of its own for this tokenizer: prose full of e's is denser than the
    # sample, so the sample's scale packs its chunks over the room.
    state = CountingServer(tokenizer=Tokenizer(fine="e"))
    serve_llama_cpp(server, state)
    diff = tmp_path / "pr.diff"
    prose = "\n".join(
        "seventeen eerie eels excel; the referee sees twelve elected members" for _ in range(700)
    )
    diff.write_text(new_file_diff("docs/notes.txt", prose))
    proc, doc = run(server, env, diff, backend="openai")
    assert proc.returncode == 0, proc.stderr
    assert "scale raised to" in proc.stderr
    assert doc["status"] == "complete" and not doc["errors"]
    assert max(state.chats) <= 8192 - 1024


# --- Ollama: calibrated from prompt_eval_count, kept per digest -----------------------------


def serve_ollama(server: HTTPServer, state: CountingServer, digest: str = DIGEST) -> None:
    serve_ollama_preflight(server, digest=digest)
    server.expect_request("/api/chat", method="POST").respond_with_handler(OllamaChat(state))


def test_ollama_is_calibrated_once_and_a_rerun_makes_no_model_call(
    server: HTTPServer, env: dict[str, str], code_diff: Path
) -> None:
    state = CountingServer()
    serve_ollama(server, state)
    first, doc = run(server, env, code_diff)
    assert first.returncode == 0, first.stderr
    assert state.calibrations == 3
    assert "Ollama prompt_eval_count" in calibration_line(first.stderr)
    # Ollama counts only what its cache did not hold: the first request of a chunk is whole.
    estimated = doc["stats"]["estimated_prompt_tokens"]
    assert 1.0 <= estimated / sum(state.chats) <= 1.1, estimated / sum(state.chats)
    assert max(state.chats) <= 8192 - 1024
    chats = len(state.chats)

    second, again = run(server, env, code_diff)
    assert second.returncode == 0, second.stderr
    assert (state.calibrations, len(state.chats)) == (3, chats)  # nothing sent at all
    assert "(stored)" in calibration_line(second.stderr)
    assert again["stats"]["model_calls"] == 0
    assert again["stats"]["cache_hits"] == doc["stats"]["chunks"] == again["stats"]["chunks"]
    # A dry run asks no server and cuts the same chunks with the stored calibration.
    assert dry_run_chunks(env, code_diff) == doc["stats"]["chunks"]


def test_ollamas_prompt_cache_cannot_shrink_the_scale(
    server: HTTPServer, env: dict[str, str], code_diff: Path
) -> None:
    state = CountingServer()
    chat = OllamaChat(state)
    # The slot still holds an earlier review's request: the system prompt, then a chunk. A
    # calibration request that started the same way would be counted without that prefix.
    chat.previous = template([{"role": "system", "content": calibration_sample()}])
    naive = template(
        [{"role": "system", "content": calibration_sample()}, {"role": "user", "content": "x"}]
    )
    assert chat.evaluated(naive) < state.tokenizer.count(calibration_sample()) / 10
    serve_ollama_preflight(server)
    server.expect_request("/api/chat", method="POST").respond_with_handler(chat)
    proc, _ = run(server, env, code_diff)
    assert proc.returncode == 0, proc.stderr
    # The sample's own tokens, which the fake's cache would have hidden in part.
    true_scale = scale_from(state.tokenizer.count(calibration_sample()))
    assert true_scale is not None
    measured = float(calibration_line(proc.stderr).split("scale ")[1].split()[0])
    assert true_scale <= measured <= true_scale + 0.01


def test_a_changed_digest_recalibrates(
    server: HTTPServer, env: dict[str, str], code_diff: Path
) -> None:
    state = CountingServer()
    serve_ollama(server, state)
    assert run(server, env, code_diff)[0].returncode == 0
    server.clear()
    serve_ollama(server, state, digest=OTHER_DIGEST)
    proc, _ = run(server, env, code_diff)
    assert proc.returncode == 0, proc.stderr
    assert state.calibrations == 6
    assert "(stored)" not in calibration_line(proc.stderr)


def test_a_corrupt_calibration_is_ignored_and_measured_again(
    server: HTTPServer, env: dict[str, str], code_diff: Path
) -> None:
    state = CountingServer()
    serve_ollama(server, state)
    assert run(server, env, code_diff)[0].returncode == 0
    stored = [p for p in Path(env["XDG_CACHE_HOME"]).rglob("*.json") if '"sample"' in p.read_text()]
    assert len(stored) == 2  # this digest's, and the last one measured (for the dry run)
    for path in stored:
        entry = json.loads(path.read_text())
        entry["value"]["scale"] = 0.01  # a scale its own counts do not give
        path.write_text(json.dumps(entry))
    proc, doc = run(server, env, code_diff)
    assert proc.returncode == 0, proc.stderr
    assert state.calibrations == 6
    assert "scale 0.0100" not in proc.stderr
    assert doc["stats"]["model_calls"] == 0  # the same scale again: the same chunks, cached
    for path in stored:
        path.write_bytes(b"\x00not json")
    assert run(server, env, code_diff)[0].returncode == 0
    assert state.calibrations == 9


def test_no_cache_measures_again_and_stores_nothing(
    server: HTTPServer, env: dict[str, str], code_diff: Path
) -> None:
    state = CountingServer()
    serve_ollama(server, state)
    for _ in range(2):
        assert run(server, env, code_diff, "--no-cache")[0].returncode == 0
    assert state.calibrations == 6
    assert not list(Path(env["XDG_CACHE_HOME"]).rglob("*.json"))


def test_without_a_stored_calibration_a_dry_run_uses_the_raw_estimate(
    env: dict[str, str], code_diff: Path
) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "reviewer",
            "run",
            "--diff-file",
            str(code_diff),
            "--dry-run",
            "--debug",
        ],
        env=env,
        cwd=code_diff.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "calibration: none (no stored calibration)" in proc.stderr
