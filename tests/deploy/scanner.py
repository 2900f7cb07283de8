"""checkov, run offline on a directory for the tests in this package.

checkov is not a test extra: its pinned closure downgrades `packaging` (26 -> 23) under the
project's own tools, so it lives in a venv of its own in the user's cache
(`~/.cache/reviewer-tests/checkov-<version>-...`), created on first use from
tests/deploy/checkov-requirements.txt (one to five minutes, once per machine) and reused after,
by every clone. It runs with the settings that keep it off
the network (no platform download, no mapping, no update check) and under netaudit/, which
refuses and records any name lookup or connection, so the test can show it made none."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "checkov-requirements.txt"
NETAUDIT = HERE / "netaudit"
VERSION = next(
    line.split("==")[1].strip()
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines()
    if line.startswith("checkov==")
)
# Every setting checkov has for staying offline: --skip-download (passed below) and these.
OFFLINE_ENV = {"BC_SKIP_MAPPING": "TRUE", "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE"}


def venv_dir() -> Path:
    """Where checkov's venv goes: the user's cache, named by checkov's version, the Python and
    the requirements' hash, so that it outlives a fresh clone (CI starts from one) and a change
    of pins never reuses an old install."""
    pins = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    return cache / "reviewer-tests" / f"checkov-{VERSION}-{python}-{pins}"


def ensure_checkov(venv: Path) -> Path:
    """The venv's python, installing checkov first if a complete install is not there. A lock
    keeps two test runs sharing the cache from installing into one directory at once."""
    python = venv / "bin" / "python"
    done = venv / ".installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with (venv.parent / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists() and python.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # Exact versions of the whole closure and no resolver: the scanner never moves.
        install = [str(python), "-m", "pip", "install", "-q", "--no-deps", "-r", str(REQUIREMENTS)]
        installed = subprocess.run(install, capture_output=True, text=True, check=False)
        assert installed.returncode == 0, f"installing checkov failed:\n{installed.stderr[-3000:]}"
        subprocess.run([str(python), "-m", "pip", "check"], check=True, capture_output=True)
        done.write_text(VERSION, encoding="utf-8")
    return python


@dataclass(frozen=True)
class Scan:
    """What one checkov run found: the failed checks, the count passed, the network use."""

    failed: list[dict[str, Any]]
    passed: int
    network: list[str]


def run_checkov(python: Path, directory: Path, log: Path, *, offline: bool = True) -> Scan:
    """checkov on `directory` (its Kubernetes and Dockerfile frameworks), JSON out."""
    environ = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    environ |= {"PYTHONPATH": str(NETAUDIT), "NETAUDIT_LOG": str(log)}
    command = [
        str(python),
        "-m",
        "checkov.main",
        "--directory",
        str(directory),
        "--framework",
        "kubernetes",
        "dockerfile",
        "--output",
        "json",
    ]
    if offline:
        environ |= OFFLINE_ENV
        command.append("--skip-download")
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, env=environ, timeout=600
    )
    # 0: nothing failed, 1: some check failed; anything else is the scanner's own failure.
    assert done.returncode in (0, 1), done.stderr[-3000:]
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    # A framework with nothing to check reports only its summary, without results.
    reports = [r for r in reports if "check_type" in r]
    assert {r["check_type"] for r in reports} <= {"kubernetes", "dockerfile"}, reports
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    passed = sum(r["summary"]["passed"] for r in reports)
    network = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return Scan(failed=failed, passed=passed, network=network)
