"""scripts/check-ci-files.sh passes on the shipped files and fails on a bad one (real zizmor and
check-jsonschema, offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.deploy.shipfiles import ROOT, check, ci_files_tree

TOOLS = ROOT / ".venv" / "bin"
pytestmark = pytest.mark.skipif(
    not (TOOLS / "zizmor").exists() or not (TOOLS / "check-jsonschema").exists(),
    reason="zizmor and check-jsonschema are installed in .venv by scripts/check-ci-files.sh",
)

INJECTABLE = """\
name: bad
on: pull_request
permissions: {}
jobs:
  echo:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions: {}
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def copy_tree(dest: Path) -> Path:
    """The files the script checks, in a fresh directory that shares the real .venv."""
    return ci_files_tree(dest, ROOT / ".venv")


def test_shipped_files_pass(tmp_path: Path) -> None:
    done = check(copy_tree(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "check-ci-files: ok" in done.stdout


def test_template_injection_in_a_workflow_fails(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    (tree / ".github" / "workflows" / "bad.yml").write_text(INJECTABLE, encoding="utf-8")
    done = check(tree)
    assert done.returncode != 0
    assert "template-injection" in done.stdout + done.stderr


def test_an_action_pinned_by_tag_fails(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    text = (tree / "action.yml").read_text(encoding="utf-8")
    pinned = "actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065 # v5.6.0"
    assert pinned in text
    (tree / "action.yml").write_text(
        text.replace(pinned, "actions/setup-python@v5"), encoding="utf-8"
    )
    done = check(tree)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout + done.stderr


def test_invalid_compose_file_fails(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    (tree / "compose" / "broken.override.yml").write_text(
        "services:\n  ollama:\n    read_only: maybe\n    cap_drop: ALL\n", encoding="utf-8"
    )
    done = check(tree)
    assert done.returncode != 0
    assert "broken.override.yml" in done.stdout + done.stderr


def test_action_that_breaks_the_action_schema_fails(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    text = (tree / "action.yml").read_text(encoding="utf-8")
    (tree / "action.yml").write_text(
        text.replace("using: composite", "using: nonsense"), encoding="utf-8"
    )
    done = check(tree)
    assert done.returncode != 0


def test_a_gitlab_example_that_breaks_gitlabs_schema_fails(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    text = (tree / "examples" / "gitlab-ci.yml").read_text(encoding="utf-8")
    assert "\n  artifacts:\n" in text
    (tree / "examples" / "gitlab-ci.yml").write_text(
        text.replace("\n  artifacts:\n", "\n  artefacts:\n", 1), encoding="utf-8"
    )
    done = check(tree)
    assert done.returncode != 0
    assert "gitlab-ci.yml" in done.stdout + done.stderr


def test_the_gitea_example_is_checked_as_a_workflow(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    text = (tree / "examples" / "gitea-review.yml").read_text(encoding="utf-8")
    pinned = "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2"
    assert pinned in text
    (tree / "examples" / "gitea-review.yml").write_text(
        text.replace(pinned, "actions/checkout@v4"), encoding="utf-8"
    )
    done = check(tree)
    assert done.returncode != 0
    assert "unpinned-uses" in done.stdout + done.stderr
