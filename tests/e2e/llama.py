"""Starting and stopping scripts/llama_server.py for the end-to-end tests, and the reason to
skip them when the real model is not installed."""

from __future__ import annotations

import importlib.util
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = ROOT / "scripts" / "llama_server.py"
# Loading the 135M model takes about a second; a slow shared runner gets generous headroom.
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class LlamaServer:
    base_url: str  # http://127.0.0.1:PORT, without /v1
    model: str  # the model id /v1/models reports
    n_ctx: int  # the context the server was started with
    log: Path  # llama.cpp's stderr, for diagnosing a failure


def load_script() -> ModuleType:
    """scripts/llama_server.py as a module, so the GGUF lookup has one implementation."""
    spec = importlib.util.spec_from_file_location("llama_server_script", SERVER_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def skip_reason() -> str | None:
    if importlib.util.find_spec("xllamacpp") is None:
        return "xllamacpp is not installed (pip install -e '.[e2e]')"
    try:
        load_script().find_gguf()
    except Exception as e:  # the script's SetupError, with the install command
        return f"the small model is not installed: {e}"
    return None


def read_url(proc: subprocess.Popen[str], log: Path) -> str:
    """The URL line the script prints once it listens, or a failure with the server's log."""
    assert proc.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline().strip()
            if line.startswith("http://127.0.0.1:"):
                return line
    pytest.fail(f"llama_server not ready after {START_TIMEOUT_S}s:\n{log.read_text()[-3000:]}")


def model_info(base_url: str) -> tuple[str, int]:
    response = httpx.get(f"{base_url}/v1/models", timeout=30)
    response.raise_for_status()
    entry = response.json()["data"][0]
    return str(entry["id"]), int(entry["meta"]["n_ctx"])


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def spawn(log: Path, *args: str) -> subprocess.Popen[str]:
    """Start the script on a free port; its stdout (the URL) is piped, its log goes to `log`."""
    with log.open("w") as log_file:
        return subprocess.Popen(
            [sys.executable, str(SERVER_SCRIPT), "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
