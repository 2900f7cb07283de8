"""Fixtures for the poster tests: a fake GitHub serving the sample pull request."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.post.github_fake import TOKEN, FakeGitHub, load_spec
from tests.post.pr_data import APP_PATCH, README_PATCH, document


@pytest.fixture
def fake(httpserver: HTTPServer) -> Iterator[FakeGitHub]:
    if load_spec() is None:
        pytest.skip("../shared/specs/github-rest-subset.json is missing beside the project")
    gh = FakeGitHub(httpserver)
    gh.add_file("src/app.py", APP_PATCH)
    gh.add_file("README.md", README_PATCH, status="added")
    gh.add_file("logo.png", None)
    for n in range(120):  # more than one page even at per_page=100
        gh.add_file(f"docs/page{n}.md", "@@ -1 +1 @@\n-old\n+new")
    for n in range(35):  # humans talking before the bot arrives
        gh.add_issue_comment(f"comment {n} from a human")
        gh.add_review_comment(f"review comment {n}")
    yield gh


@pytest.fixture
def findings_file(tmp_path: Path) -> Path:
    path = tmp_path / "findings.json"
    path.write_text(document().model_dump_json(indent=2))
    return path


@pytest.fixture
def env(fake: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    event = tmp_path / "event.json"
    pull = {"number": fake.number, "head": {"sha": fake.head_sha}}
    event.write_text(json.dumps({"action": "synchronize", "number": fake.number, "pull_request": pull}))
    return {
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": fake.repo,
        "GITHUB_API_URL": fake.url,
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
    }
