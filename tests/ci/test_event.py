"""The one reader of the GitHub Actions event file: a typed view of its pull request, a size
bound, and one clear line (exit 2, nothing sent) for a file that is not readable JSON, seen
through both of its callers (the diff source's defaults and `reviewer post`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from reviewer.ci.event import (
    MAX_EVENT_BYTES,
    EventFileError,
    PullRequestEvent,
    pull_request_of,
    read_event,
)
from reviewer.diff.select import default_base, default_head
from reviewer.errors import ExitCode
from tests.post.pr_data import document

SHA_A, SHA_B = "a" * 40, "b" * 40


def _env(path: Path) -> dict[str, str]:
    return {"GITHUB_EVENT_PATH": str(path)}


def _event(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_pull_request_event_gives_its_number_shas_and_repository(tmp_path: Path) -> None:
    pull = {"number": 12, "base": {"sha": SHA_A}, "head": {"sha": SHA_B}}
    path = _event(tmp_path, {"pull_request": pull, "repository": {"full_name": "o/r"}})
    assert read_event(_env(path)) == PullRequestEvent(12, SHA_A, SHA_B, "o/r")
    # the number may sit beside pull_request only (pull_request_target payloads carry both)
    path = _event(tmp_path, {"number": 7, "pull_request": {"head": {"sha": SHA_B}}})
    assert read_event(_env(path)) == PullRequestEvent(number=7, head_sha=SHA_B)


@pytest.mark.parametrize(
    "data",
    [
        {"ref": "refs/heads/main"},  # a push event
        {"number": 3},  # a number without a pull request is not one
        {"pull_request": None},
        {"pull_request": [1, 2]},
        [],
        "text",
        None,
    ],
)
def test_an_event_without_a_pull_request_is_an_empty_view(tmp_path: Path, data: object) -> None:
    assert read_event(_env(_event(tmp_path, data))) == PullRequestEvent()
    assert read_event({}) == read_event({"GITHUB_EVENT_PATH": ""}) == PullRequestEvent()


def test_ill_typed_values_are_dropped_not_trusted(tmp_path: Path) -> None:
    pull = {"number": "12", "base": {"sha": 5}, "head": {"sha": ""}, "title": 3, "body": [""]}
    event = {"pull_request": pull, "repository": {"full_name": ["o/r"]}}
    assert read_event(_env(_event(tmp_path, event))) == PullRequestEvent()
    assert pull_request_of({"pull_request": {"number": True}}).number is None


KEYS = st.sampled_from(
    ["pull_request", "number", "head", "base", "sha", "repository", "full_name", "title", "body"]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(KEYS | st.text(), inner),
)


@given(JSON)
def test_any_json_value_gives_a_well_typed_view(data: object) -> None:
    view = pull_request_of(data)
    assert view.number is None or (type(view.number) is int)
    for text in (view.base_sha, view.head_sha, view.repository, view.title, view.body):
        assert text is None or (isinstance(text, str) and text)


def _unreadable(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.json"
    if kind == "missing":
        return path
    if kind == "not-json":
        path.write_text("{not json")
    elif kind == "not-utf8":
        path.write_bytes(b'{"pull_request": "\xff"}')
    elif kind == "deep":
        path.write_text("[" * 200_000 + "]" * 200_000)
    elif kind == "huge":
        with path.open("wb") as f:  # sparse: costs no disk
            f.truncate(MAX_EVENT_BYTES + 1)
    elif kind == "directory":
        path.mkdir()
    return path


KINDS = ["missing", "not-json", "not-utf8", "deep", "huge", "directory"]
WHY = {"deep": "nested too deeply", "huge": f"larger than {MAX_EVENT_BYTES} bytes"}


@pytest.mark.parametrize("kind", KINDS)
def test_an_unreadable_event_file_is_one_clear_line(tmp_path: Path, kind: str) -> None:
    path = _unreadable(tmp_path, kind)
    with pytest.raises(EventFileError) as info:
        read_event(_env(path))
    message = info.value.message
    assert message.startswith(f"cannot read the event file GITHUB_EVENT_PATH={path}: ")
    assert "\n" not in message and WHY.get(kind, "") in message
    assert info.value.exit_code == ExitCode.USAGE


@pytest.mark.parametrize("kind", KINDS)
def test_the_diff_source_falls_back_past_an_unreadable_event_file(
    tmp_path: Path, kind: str
) -> None:
    env = {**_env(_unreadable(tmp_path, kind)), "GITHUB_BASE_REF": "main"}
    assert default_head(env) == "HEAD"
    assert default_base(tmp_path, env) == "origin/main"


def test_the_diff_source_and_the_poster_read_the_same_event(tmp_path: Path) -> None:
    pull = {"number": 5, "base": {"sha": SHA_A}, "head": {"sha": SHA_B}}
    env = _env(_event(tmp_path, {"pull_request": pull}))
    assert (default_base(tmp_path, env), default_head(env)) == (SHA_A, SHA_B)
    from reviewer.post.target import resolve_target

    target = resolve_target({**env, "GITHUB_REPOSITORY": "o/r"}, None, None, None)
    assert (target.number, target.head_sha) == (5, SHA_B)


@pytest.mark.parametrize("kind", ["not-json", "deep", "huge"])
def test_reviewer_post_refuses_a_hostile_event_file_before_any_request(
    tmp_path: Path, httpserver: HTTPServer, kind: str
) -> None:
    findings = tmp_path / "findings.json"
    findings.write_text(document().model_dump_json())
    env = {
        "PATH": "/usr/bin:/bin",
        "GITHUB_TOKEN": "ghs_" + "x" * 36,
        "GITHUB_REPOSITORY": "o/r",
        "GITHUB_API_URL": httpserver.url_for("").rstrip("/"),
        **_env(_unreadable(tmp_path, kind)),
    }
    result = subprocess.run(
        [sys.executable, "-m", "reviewer", "post", "--findings", str(findings)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "cannot read the event file GITHUB_EVENT_PATH=" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert httpserver.log == []
