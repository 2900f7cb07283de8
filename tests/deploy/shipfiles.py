"""Loading the shipped CI and deployment files for the tests in this package."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose"
KUBERNETES = ROOT / "deploy" / "kubernetes"
SYSTEMD = ROOT / "deploy" / "systemd"
# Every Kubernetes manifest shipped (the scanner's list of accepted findings is not one).
KUBERNETES_FILES = sorted(
    path for path in KUBERNETES.glob("*.yaml") if path.name != "checkov-accepted.yaml"
)
EXAMPLES = ROOT / "examples"
# The examples split as scripts/check-ci-files.sh splits them: GitLab CI files by their name,
# checked against GitLab's schema; every other one is a GitHub Actions workflow (Gitea and
# Forgejo Actions run the same format), checked against GitHub's schema and by zizmor.
GITLAB_FILES = sorted([*EXAMPLES.glob("gitlab-*.yml"), *EXAMPLES.glob("gitlab-*.yaml")])
WORKFLOW_FILES = sorted(
    path
    for path in [
        *(ROOT / ".github" / "workflows").glob("*.yml"),
        *(ROOT / ".github" / "workflows").glob("*.yaml"),
        *EXAMPLES.glob("*.yml"),
        *EXAMPLES.glob("*.yaml"),
    ]
    if path not in GITLAB_FILES
)


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_all(path: Path) -> list[Any]:
    """Every document of a multi-document YAML file (a Kubernetes manifest)."""
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` mapping. YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True."""
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


def ci_files_tree(dest: Path, venv: Path) -> Path:
    """The files scripts/check-ci-files.sh checks, in a fresh directory whose .venv is `venv`."""
    shutil.copy(ROOT / "action.yml", dest / "action.yml")
    for name in (".github", "examples", "compose", "scripts"):
        shutil.copytree(ROOT / name, dest / name)
    (dest / "tests" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "data" / "gitlab-ci.schema.json", dest / "tests" / "data")
    (dest / ".venv").symlink_to(venv)
    return dest


def check(tree: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """scripts/check-ci-files.sh run on `tree`."""
    return subprocess.run(
        ["bash", str(tree / "scripts" / "check-ci-files.sh")],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
