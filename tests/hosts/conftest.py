"""Fixtures for the fake hosts' own tests: a real git repository with a two-commit change (a
modified file, an added one, a removed one, a rename), and the fakes serving its `git diff`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.diff.gitrepo_helpers import GitRepo
from tests.hosts import gitea_fake, gitlab_fake
from tests.hosts.spec import require_spec

APP_BASE = "".join(f"line {n}\n" for n in range(1, 31))
# Line 3 is changed, 20 removed, 28 added after 27: two hunks with context between.
APP_HEAD = (
    APP_BASE.replace("line 3\n", "line three\n")
    .replace("line 20\n", "")
    .replace("line 27\n", "line 27\nline 27b\n")
)


@dataclass(frozen=True)
class Change:
    diff: str
    base_sha: str
    head_sha: str


@pytest.fixture
def change(tmp_path: Path) -> Change:
    repo = GitRepo(tmp_path / "repo")
    repo.write("src/app.py", APP_BASE)
    repo.write("old.txt", "gone\n")
    repo.write("docs/name.md", "same content\nfor the rename\n")
    base = repo.commit("base")
    repo.write("src/app.py", APP_HEAD)
    repo.remove("old.txt")
    repo.git("mv", "docs/name.md", "docs/renamed.md")
    repo.write("README.md", "# App\n\nNew.\n")
    head = repo.commit("head")
    diff = repo.git("diff", "-M", base, head).decode()
    return Change(diff, base, head)


@pytest.fixture
def gitlab(httpserver: HTTPServer, change: Change) -> Iterator[gitlab_fake.FakeGitLab]:
    require_spec(gitlab_fake.SPEC_NAME)
    fake = gitlab_fake.FakeGitLab(httpserver)
    fake.push(change.diff, change.base_sha, change.head_sha)
    yield fake


@pytest.fixture
def gitea(httpserver: HTTPServer, change: Change) -> Iterator[gitea_fake.FakeGitea]:
    require_spec(gitea_fake.SPEC_NAME)
    fake = gitea_fake.FakeGitea(httpserver)
    fake.push(change.diff, change.base_sha, change.head_sha)
    yield fake
