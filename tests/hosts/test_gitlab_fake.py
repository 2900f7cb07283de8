"""The fake GitLab answers like GitLab: it accepts what GitLab accepts, rejects what GitLab
rejects (each rule of a diff note's position), paginates, and flags any request or response
that does not match GitLab's own API description."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.hosts.conftest import Change
from tests.hosts.diff_model import line_code
from tests.hosts.gitlab_fake import JOB_TOKEN, LINE_CODE_ERROR, TOKEN, FakeGitLab

MR = "/projects/group%2Fapp/merge_requests/7"
APP = "src/app.py"


@pytest.fixture
def client(gitlab: FakeGitLab) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gitlab.url, headers={"PRIVATE-TOKEN": TOKEN}) as c:
        yield c


def position(change: Change, **lines: Any) -> dict[str, Any]:
    return {
        "position_type": "text",
        "base_sha": change.base_sha,
        "start_sha": change.base_sha,
        "head_sha": change.head_sha,
        "old_path": APP,
        "new_path": APP,
        **lines,
    }


def note_at(client: httpx.Client, pos: dict[str, Any]) -> httpx.Response:
    return client.post(f"{MR}/discussions", json={"body": "finding", "position": pos})


def test_tokens_gitlab_takes_and_refuses(gitlab: FakeGitLab) -> None:
    url = gitlab.url + MR
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"PRIVATE-TOKEN": "wrong"}).json() == {
        "message": "401 Unauthorized"
    }
    assert httpx.get(url, headers={"PRIVATE-TOKEN": TOKEN}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    gitlab.assert_valid()


def test_a_ci_job_token_cannot_write_notes(gitlab: FakeGitLab) -> None:
    job = {"JOB-TOKEN": JOB_TOKEN}
    assert httpx.get(gitlab.url + MR, headers=job).status_code == 200
    refused = httpx.post(gitlab.url + MR + "/notes", headers=job, json={"body": "x"})
    assert (refused.status_code, refused.json()) == (403, {"message": "403 Forbidden"})
    assert httpx.get(gitlab.url + "/user", headers=job).status_code == 403
    assert gitlab.notes() == []


def test_a_project_path_must_be_url_encoded(gitlab: FakeGitLab, client: httpx.Client) -> None:
    assert client.get("/projects/42/merge_requests/7").status_code == 200
    assert client.get("/projects/group/app/merge_requests/7").status_code == 404
    assert client.get(f"{MR[:-1]}8").status_code == 404


def test_the_merge_request_names_its_latest_version(
    gitlab: FakeGitLab, client: httpx.Client, change: Change
) -> None:
    mr = client.get(MR).json()
    assert mr["diff_refs"] == {
        "base_sha": change.base_sha,
        "head_sha": change.head_sha,
        "start_sha": change.base_sha,
    }
    assert mr["sha"] == change.head_sha
    versions = client.get(f"{MR}/versions").json()
    assert [v["head_commit_sha"] for v in versions] == [change.head_sha]
    full = client.get(f"{MR}/versions/{versions[0]['id']}").json()
    assert {d["new_path"] for d in full["diffs"]} == {
        "README.md",
        APP,
        "docs/renamed.md",
        "old.txt",
    }
    assert client.get(f"{MR}/raw_diffs").text == change.diff
    gitlab.assert_valid()


def test_diffs_are_git_own_hunks_with_paths_and_status(
    gitlab: FakeGitLab, client: httpx.Client, change: Change
) -> None:
    diffs = {d["new_path"]: d for d in client.get(f"{MR}/diffs", params={"per_page": 100}).json()}
    assert diffs["README.md"]["new_file"] and diffs["README.md"]["diff"].startswith(
        "@@ -0,0 +1,3 @@\n+# App"
    )
    assert diffs["old.txt"]["deleted_file"]
    assert (
        diffs["docs/renamed.md"]["renamed_file"]
        and diffs["docs/renamed.md"]["old_path"] == "docs/name.md"
    )
    assert diffs[APP]["diff"] in change.diff and diffs[APP]["diff"].count("\n@@") == 2
    changes = client.get(f"{MR}/changes").json()["changes"]
    assert sorted(c["new_path"] for c in changes) == sorted(diffs)
    gitlab.assert_valid()


def test_diffs_paginate_with_gitlab_headers(gitlab: FakeGitLab, client: httpx.Client) -> None:
    seen, page = [], "1"
    while page:
        r = client.get(f"{MR}/diffs", params={"per_page": 1, "page": page})
        assert r.headers["X-Total"] == "4" and r.headers["X-Total-Pages"] == "4"
        seen += [d["new_path"] for d in r.json()]
        if r.headers["X-Next-Page"]:
            assert 'rel="next"' in r.headers["Link"]
        page = r.headers["X-Next-Page"]
    assert len(seen) == 4 and len(set(seen)) == 4
    last = client.get(f"{MR}/diffs", params={"per_page": 1, "page": 4})
    assert 'rel="next"' not in last.headers["Link"] and last.headers["X-Prev-Page"] == "3"
    next_link = client.get(f"{MR}/diffs", params={"per_page": 3}).links["next"]["url"]
    assert "group%2Fapp" in next_link and client.get(next_link).json()[0]["new_path"] == seen[3]


def test_a_note_on_an_added_line_takes_new_line_only(
    gitlab: FakeGitLab, client: httpx.Client, change: Change
) -> None:
    created = note_at(client, position(change, new_line=3))
    assert created.status_code == 201
    note = created.json()["notes"][0]
    assert (
        note["type"] == "DiffNote"
        and note["position"]["new_line"] == 3
        and note["position"]["old_line"] is None
    )
    assert note["author"]["username"] == gitlab.username
    assert note_at(client, position(change, new_line=3, old_line=3)).json() == {
        "message": LINE_CODE_ERROR
    }
    assert [d["id"] for d in client.get(f"{MR}/discussions").json()] == [created.json()["id"]]
    gitlab.assert_valid()


def test_a_note_on_a_removed_line_takes_old_line_only(client: httpx.Client, change: Change) -> None:
    assert note_at(client, position(change, old_line=20)).status_code == 201
    assert note_at(client, position(change, old_line=3)).status_code == 201
    assert note_at(client, position(change, new_line=20)).status_code == 400  # new 20 is context
    assert note_at(client, position(change, old_line=20, new_line=19)).status_code == 400


def test_a_note_on_an_unchanged_line_needs_both_lines(client: httpx.Client, change: Change) -> None:
    # old line 21 is new line 20 (line 20 was removed above it)
    assert note_at(client, position(change, new_line=20)).status_code == 400
    assert note_at(client, position(change, old_line=21)).status_code == 400
    assert note_at(client, position(change, old_line=20, new_line=20)).status_code == 400
    assert note_at(client, position(change, old_line=21, new_line=20)).status_code == 201


@pytest.mark.parametrize(
    "wrong",
    [
        {"new_line": 12, "old_line": 12},  # a line of the file outside every hunk
        {"new_line": 99},  # past the end
        {"new_path": "src/other.py", "old_path": "src/other.py", "new_line": 3},  # not in the diff
        {
            "new_path": "docs/renamed.md",
            "old_path": "docs/renamed.md",
            "new_line": 1,
        },  # rename: old_path differs
        {"head_sha": "0" * 40, "new_line": 3},  # not the MR's latest version
        {"start_sha": "0" * 40, "new_line": 3},
    ],
)
def test_gitlab_refuses_a_position_outside_the_latest_diff(
    gitlab: FakeGitLab, client: httpx.Client, change: Change, wrong: dict[str, Any]
) -> None:
    refused = note_at(client, {**position(change), **wrong})
    assert (refused.status_code, refused.json()) == (400, {"message": LINE_CODE_ERROR})
    assert gitlab.discussions == []
    gitlab.assert_valid()


def test_after_a_push_only_the_new_version_takes_notes(
    gitlab: FakeGitLab, client: httpx.Client, change: Change
) -> None:
    old = position(change, new_line=3)
    assert note_at(client, old).status_code == 201
    newer = gitlab.push(change.diff)
    assert client.get(MR).json()["diff_refs"]["head_sha"] == newer.head_sha
    assert note_at(client, old).status_code == 400
    again = {
        **old,
        "base_sha": newer.base_sha,
        "start_sha": newer.start_sha,
        "head_sha": newer.head_sha,
    }
    assert note_at(client, again).status_code == 201
    assert len(client.get(f"{MR}/discussions").json()) == 2  # the first thread stays


def test_only_text_positions_are_modelled(client: httpx.Client, change: Change) -> None:
    assert (
        note_at(client, {**position(change, new_line=3), "position_type": "image"}).status_code
        == 400
    )


def test_a_multi_line_note_uses_line_codes_of_the_diff(
    gitlab: FakeGitLab, client: httpx.Client, change: Change
) -> None:
    def code(old: int, new: int) -> str:
        return line_code(APP, old, new)

    # new lines 26..27: context "line 27" (old 27: line 20 went above it), then the added
    # "line 27b" (GitLab's counters: old 28, new 27)
    good = {
        "start": {"line_code": code(27, 26), "type": "new"},
        "end": {"line_code": code(28, 27), "type": "new"},
    }
    assert note_at(client, position(change, new_line=27, line_range=good)).status_code == 201
    backwards = {"start": good["end"], "end": good["start"]}
    assert (
        note_at(
            client, position(change, new_line=26, old_line=27, line_range=backwards)
        ).status_code
        == 400
    )
    not_the_end = position(change, new_line=26, old_line=27, line_range=good)
    assert note_at(client, not_the_end).status_code == 400
    unknown = {**good, "start": {"line_code": code(10, 10), "type": "new"}}
    assert note_at(client, position(change, new_line=27, line_range=unknown)).status_code == 400
    wrong_type = {**good, "start": {"line_code": code(27, 26), "type": "old"}}
    assert note_at(client, position(change, new_line=27, line_range=wrong_type)).status_code == 400
    gitlab.assert_valid()


def test_a_thread_is_resolved_and_replied_to(
    gitlab: FakeGitLab, client: httpx.Client, change: Change
) -> None:
    thread = note_at(client, position(change, new_line=3)).json()
    reply = client.post(f"{MR}/discussions/{thread['id']}/notes", json={"body": "still there"})
    assert reply.status_code == 201 and reply.json()["type"] == "DiffNote"
    resolved = client.put(f"{MR}/discussions/{thread['id']}", json={"resolved": True}).json()
    assert resolved["resolved"] and all(n["resolved"] for n in resolved["notes"])
    assert resolved["notes"][0]["resolved_by"]["username"] == gitlab.username
    assert client.get(f"{MR}/discussions/{thread['id']}").json()["resolved"]
    comment = client.post(f"{MR}/notes", json={"body": "plain"}).json()
    individual = next(d for d in gitlab.discussions if d["notes"][0]["id"] == comment["id"])
    assert (
        client.put(f"{MR}/discussions/{individual['id']}", json={"resolved": True}).status_code
        == 403
    )
    assert client.put(f"{MR}/discussions/{'f' * 40}", json={"resolved": True}).status_code == 404
    gitlab.assert_valid()


def test_only_the_author_edits_a_note(gitlab: FakeGitLab, client: httpx.Client) -> None:
    theirs = gitlab.add_note("a human's words")
    ours = client.post(f"{MR}/notes", json={"body": "<!-- reviewer:summary --> v1"}).json()
    assert client.put(f"{MR}/notes/{theirs['id']}", json={"body": "mine now"}).status_code == 403
    assert gitlab.notes()[0]["body"] == "a human's words"
    edited = client.put(f"{MR}/notes/{ours['id']}", json={"body": "<!-- reviewer:summary --> v2"})
    assert edited.status_code == 200 and client.get(f"{MR}/notes/{ours['id']}").json()[
        "body"
    ].endswith("v2")
    assert client.delete(f"{MR}/notes/{theirs['id']}").status_code == 403
    assert client.delete(f"{MR}/notes/{ours['id']}").status_code == 204
    assert client.get(f"{MR}/notes/{ours['id']}").status_code == 404
    gitlab.assert_valid()


def test_notes_paginate_newest_first_by_default(gitlab: FakeGitLab, client: httpx.Client) -> None:
    for n in range(45):
        gitlab.add_note(f"note {n}")
    first = client.get(f"{MR}/notes")
    assert (
        len(first.json()) == 20
        and first.headers["X-Total"] == "45"
        and first.headers["X-Next-Page"] == "2"
    )
    assert first.json()[0]["body"] == "note 44"
    oldest = client.get(f"{MR}/notes", params={"sort": "asc", "per_page": 100}).json()
    assert [n["body"] for n in oldest] == [f"note {n}" for n in range(45)]
    assert len(client.get(f"{MR}/discussions", params={"page": 3}).json()) == 5
    gitlab.assert_valid()


def test_a_commit_status_on_the_head(
    gitlab: FakeGitLab, client: httpx.Client, change: Change
) -> None:
    set_ = client.post(
        f"/projects/42/statuses/{change.head_sha}", json={"state": "failed", "name": "reviewer"}
    )
    assert set_.status_code == 201 and set_.json()["status"] == "failed"
    assert [(s["sha"], s["name"]) for s in gitlab.statuses] == [(change.head_sha, "reviewer")]
    assert (
        client.post(f"/projects/42/statuses/{'0' * 40}", json={"state": "success"}).status_code
        == 404
    )
    gitlab.assert_valid()


def test_who_the_token_is(gitlab: FakeGitLab, client: httpx.Client) -> None:
    assert client.get("/user").json()["username"] == gitlab.username
    gitlab.assert_valid()


def test_rate_limits_and_server_errors_on_demand(gitlab: FakeGitLab, client: httpx.Client) -> None:
    gitlab.rate_limits, gitlab.retry_after, gitlab.server_errors = 1, "7", 1
    limited = client.get(MR)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert client.get(MR).status_code == 502
    assert client.get(MR).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"position": {"position_type": "text"}},  # no body
        {"body": 5},
        {"body": "x", "position": {"position_type": "text", "new_line": 3}},  # no SHAs
        {
            "body": "x",
            "position": {
                "base_sha": "a",
                "start_sha": "a",
                "head_sha": "a",
                "position_type": "line",
            },
        },
        {
            "body": "x",
            "position": {
                "base_sha": "a",
                "start_sha": "a",
                "head_sha": "a",
                "position_type": "text",
                "line_range": {"start": {"type": "new"}, "end": {"type": "new"}},
            },
        },
    ],
)
def test_a_body_off_the_spec_is_flagged(
    gitlab: FakeGitLab, client: httpx.Client, body: dict[str, Any]
) -> None:
    refused = client.post(f"{MR}/discussions", json=body)
    assert refused.status_code == 400 and "error" in refused.json()
    assert gitlab.schema_errors and gitlab.discussions == []
    with pytest.raises(AssertionError):
        gitlab.assert_valid()


def test_a_form_encoded_body_is_flagged(gitlab: FakeGitLab, client: httpx.Client) -> None:
    assert client.post(f"{MR}/notes", data={"body": "x"}).status_code == 400
    assert gitlab.schema_errors == [
        "POST /projects/group%2Fapp/merge_requests/7/notes: body is application/x-www-form-urlencoded, not application/json"
    ]


def test_a_response_off_the_spec_is_flagged(gitlab: FakeGitLab, client: httpx.Client) -> None:
    gitlab.add_note("x")["body"] = 5  # what no GitLab would send
    client.get(f"{MR}/notes")
    assert any(e.startswith("response to GET") and "body" in e for e in gitlab.schema_errors)
