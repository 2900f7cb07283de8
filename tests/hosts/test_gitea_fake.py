"""The fake Gitea answers like Gitea: one pull review carrying many comments, each on a line
of the pull request's diff or, as Gitea does, stored without diff context when it is not; a
pending review only its author sees; no API to resolve a comment; pagination with page/limit
(a Link header only where Gitea sends one); issue comments only writers edit; and a flag on any
request or response that does not match Gitea's own API description."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.hosts.conftest import Change
from tests.hosts.gitea_fake import TOKEN, FakeGitea

PULL = "/repos/org/app/pulls/7"
ISSUE = "/repos/org/app/issues/7"


@pytest.fixture
def client(gitea: FakeGitea) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gitea.url, headers={"Authorization": f"token {TOKEN}"}) as c:
        yield c


def review(
    client: httpx.Client, *comments: dict[str, Any], event: str = "COMMENT", body: str = "summary"
) -> httpx.Response:
    return client.post(
        f"{PULL}/reviews", json={"body": body, "event": event, "comments": list(comments)}
    )


def at(path: str = "src/app.py", **where: int) -> dict[str, Any]:
    return {"path": path, "body": "finding", **where}


def test_tokens_gitea_takes_and_refuses(gitea: FakeGitea) -> None:
    url = gitea.url + PULL
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "token wrong"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": f"token {TOKEN}"}).status_code == 200
    assert httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert (
        httpx.get(gitea.url + "/user", headers={"Authorization": f"token {TOKEN}"}).json()["login"]
        == gitea.login
    )
    gitea.assert_valid()


def test_the_pull_request_and_its_diff(
    gitea: FakeGitea, client: httpx.Client, change: Change
) -> None:
    pull = client.get(PULL).json()
    assert (pull["head"]["sha"], pull["base"]["sha"], pull["merge_base"]) == (
        change.head_sha,
        change.base_sha,
        change.base_sha,
    )
    assert client.get(f"{PULL}.diff").text == change.diff
    assert client.get("/repos/org/app/pulls/8").status_code == 404
    assert client.get("/repos/org/other/pulls/7").status_code == 404
    gitea.assert_valid()


def test_files_paginate_with_link_and_total(gitea: FakeGitea, client: httpx.Client) -> None:
    seen, url = [], f"{PULL}/files?limit=1"
    while url:
        r = client.get(url)
        assert r.headers["X-Total-Count"] == "4"
        seen += r.json()
        url = r.links.get("next", {}).get("url", "")
    assert {(f["filename"], f["status"]) for f in seen} == {
        ("README.md", "added"),
        ("src/app.py", "changed"),
        ("old.txt", "deleted"),
        ("docs/renamed.md", "renamed"),
    }
    assert next(f for f in seen if f["status"] == "renamed")["previous_filename"] == "docs/name.md"
    assert "Link" not in client.get(f"{PULL}/files").headers  # one page at the default limit
    gitea.max_limit = 2
    assert len(client.get(f"{PULL}/files", params={"limit": 100}).json()) == 2
    gitea.assert_valid()


def test_one_review_carries_many_comments(
    gitea: FakeGitea, client: httpx.Client, change: Change
) -> None:
    created = review(
        client,
        at(new_position=3),
        at(old_position=20),
        at(new_position=20),
        at("README.md", new_position=1),
    )
    assert created.status_code == 200 and created.json()["comments_count"] == 4
    listed = client.get(f"{PULL}/reviews").json()
    assert [(r["id"], r["state"], r["user"]["login"]) for r in listed] == [
        (created.json()["id"], "COMMENT", gitea.login)
    ]
    comments = client.get(f"{PULL}/reviews/{created.json()['id']}/comments").json()
    # Listed by file and line, not in the order they were sent.
    assert [(c["path"], c["position"], c["original_position"]) for c in comments] == [
        ("README.md", 1, 0),
        ("src/app.py", 0, 20),
        ("src/app.py", 3, 0),
        ("src/app.py", 20, 0),
    ]
    assert all(c["resolver"] is None and c["commit_id"] == change.head_sha for c in comments)
    assert all(c["diff_hunk"].startswith("@@") for c in comments)
    gitea.assert_valid()


@pytest.mark.parametrize(
    "comment",
    [
        at(new_position=12),  # a line of the file outside every hunk
        at(new_position=99),  # past the end of the file
        at(old_position=12, new_position=3),  # both sides: the old one counts
        at(),  # neither
        at(old_position=40),  # past the end of the old file
        at("src/other.py", new_position=1),  # not in the diff
        at("docs/name.md", new_position=1),  # a rename's old name
    ],
)
def test_gitea_stores_a_comment_outside_the_diff_without_its_context(
    gitea: FakeGitea, client: httpx.Client, comment: dict[str, Any]
) -> None:
    created = review(client, at(new_position=3), comment)
    assert created.status_code == 200 and created.json()["comments_count"] == 2
    hunks = {
        c["body"] + str(c["position"]): c["diff_hunk"]
        for c in client.get(f"{PULL}/reviews/{created.json()['id']}/comments").json()
    }
    assert hunks["finding3"].startswith("@@")  # the line of the diff keeps its context
    assert [h for h in hunks.values() if not h] == [""]  # the other one has none
    gitea.assert_valid()


def test_an_empty_comment_review_is_refused_and_pending_is_submitted(
    gitea: FakeGitea, client: httpx.Client
) -> None:
    assert review(client, body="").status_code == 422
    pending = review(client, at(new_position=3), event="PENDING").json()
    assert pending["state"] == "PENDING"
    submitted = client.post(
        f"{PULL}/reviews/{pending['id']}", json={"event": "COMMENT", "body": "done"}
    )
    assert submitted.status_code == 200 and submitted.json()["state"] == "COMMENT"
    assert (
        client.post(f"{PULL}/reviews/{pending['id']}", json={"event": "COMMENT"}).status_code == 422
    )
    assert client.get(f"{PULL}/reviews/{pending['id']}").json()["body"] == "done"
    gitea.assert_valid()


def test_no_api_resolves_a_review_comment(gitea: FakeGitea, client: httpx.Client) -> None:
    created = review(client, at(new_position=3)).json()
    comment = client.get(f"{PULL}/reviews/{created['id']}/comments").json()[0]
    for method in ("PATCH", "POST", "PUT"):
        assert (
            client.request(
                method, f"{PULL}/reviews/{created['id']}/comments/{comment['id']}/resolve", json={}
            ).status_code
            == 404
        )
    gitea.resolve(comment["id"])  # what a human does in the web UI
    assert (
        client.get(f"{PULL}/reviews/{created['id']}/comments").json()[0]["resolver"]["login"]
        == "a-human"
    )
    gitea.assert_valid()


def test_a_push_makes_earlier_reviews_stale(
    gitea: FakeGitea, client: httpx.Client, change: Change
) -> None:
    created = review(client, at(new_position=3)).json()
    gitea.push(change.diff)
    assert client.get(PULL).json()["head"]["sha"] != change.head_sha
    assert client.get(f"{PULL}/reviews/{created['id']}").json()["stale"] is True


def test_only_our_own_review_can_be_deleted(gitea: FakeGitea, client: httpx.Client) -> None:
    theirs = gitea.add_review("human review")
    ours = review(client, at(new_position=3)).json()
    assert client.delete(f"{PULL}/reviews/{theirs['id']}").status_code == 403
    assert client.delete(f"{PULL}/reviews/{ours['id']}").status_code == 204
    assert [r["id"] for r in gitea.reviews] == [theirs["id"]] and gitea.review_comments == []


def test_reviews_paginate(gitea: FakeGitea, client: httpx.Client) -> None:
    for n in range(7):
        gitea.add_review(f"review {n}")
    first = client.get(f"{PULL}/reviews", params={"limit": 3})
    assert len(first.json()) == 3 and first.headers["X-Total-Count"] == "7"
    assert "Link" not in first.headers  # ListPullReviews sets no Link header
    last = client.get(f"{PULL}/reviews", params={"limit": 3, "page": 3})
    assert [r["body"] for r in last.json()] == ["review 6"]
    assert client.get(f"{PULL}/reviews", params={"limit": 3, "page": 4}).json() == []
    gitea.assert_valid()


def test_a_writer_edits_anyones_issue_comment(gitea: FakeGitea, client: httpx.Client) -> None:
    """As Gitea's editIssueComment: the poster or anyone who may write to the repository. So
    only the poster's own care keeps a planted comment untouched."""
    theirs = gitea.add_issue_comment("a human's words")
    ours = client.post(f"{ISSUE}/comments", json={"body": "<!-- reviewer:summary --> v1"})
    assert ours.status_code == 201
    edited = client.patch(
        f"/repos/org/app/issues/comments/{ours.json()['id']}",
        json={"body": "<!-- reviewer:summary --> v2"},
    )
    assert edited.status_code == 200
    assert [c["body"] for c in client.get(f"{ISSUE}/comments").json()] == [
        "a human's words",
        "<!-- reviewer:summary --> v2",
    ]
    path = f"/repos/org/app/issues/comments/{theirs['id']}"
    assert client.patch(path, json={"body": "x"}).status_code == 200
    assert theirs["body"] == "x"
    assert client.delete(f"/repos/org/app/issues/comments/{ours.json()['id']}").status_code == 204
    gitea.assert_valid()


def test_a_pending_review_is_its_authors_alone_and_takes_their_next_comments(
    gitea: FakeGitea, client: httpx.Client
) -> None:
    theirs = gitea.add_review("a human's draft", state="PENDING")
    pending = review(client, at(new_position=3), event="PENDING").json()
    again = review(client, at(new_position=20), event="PENDING").json()
    assert again["id"] == pending["id"] and again["comments_count"] == 2  # GetCurrentReview
    assert [r["id"] for r in client.get(f"{PULL}/reviews").json()] == [pending["id"]]
    assert client.get(f"{PULL}/reviews/{theirs['id']}").status_code == 404
    assert review(client, event="PENDING", body="").status_code == 422  # pending needs a body
    gitea.assert_valid()


def test_a_read_only_token_cannot_write(gitea: FakeGitea, client: httpx.Client) -> None:
    gitea.read_only = True
    assert client.get(PULL).status_code == 200
    assert client.post(f"{ISSUE}/comments", json={"body": "x"}).status_code == 403
    assert review(client, at(new_position=3)).status_code == 403
    assert gitea.issue_comments == [] and gitea.reviews == []


def test_a_commit_status(gitea: FakeGitea, client: httpx.Client, change: Change) -> None:
    set_ = client.post(
        f"/repos/org/app/statuses/{change.head_sha}",
        json={"state": "failure", "context": "reviewer"},
    )
    assert set_.status_code == 201 and set_.json()["status"] == "failure"
    assert [(s["sha"], s["context"]) for s in gitea.statuses] == [(change.head_sha, "reviewer")]
    gitea.assert_valid()


def test_rate_limits_and_server_errors_on_demand(gitea: FakeGitea, client: httpx.Client) -> None:
    gitea.rate_limits, gitea.retry_after, gitea.server_errors = 1, "3", 1
    limited = client.get(PULL)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
    assert client.get(PULL).status_code == 503
    assert client.get(PULL).status_code == 200


@pytest.mark.parametrize(
    ("url", "body"),
    [
        (
            f"{PULL}/reviews",
            {
                "event": "COMMENT",
                "comments": [{"path": "src/app.py", "new_position": "3", "body": "x"}],
            },
        ),
        (f"{PULL}/reviews", {"event": "LGTM", "body": "x"}),
        (f"{PULL}/reviews", {"body": 1, "event": "COMMENT"}),
        (f"{ISSUE}/comments", {"text": "x"}),
        ("/repos/org/app/statuses/abc", {"state": "failed"}),  # GitLab's word, not Gitea's
    ],
)
def test_a_body_off_the_spec_is_flagged(
    gitea: FakeGitea, client: httpx.Client, url: str, body: dict[str, Any]
) -> None:
    assert client.post(url, json=body).status_code == 422
    assert gitea.schema_errors and not (gitea.reviews or gitea.issue_comments or gitea.statuses)
    with pytest.raises(AssertionError):
        gitea.assert_valid()


def test_a_response_off_the_spec_is_flagged(gitea: FakeGitea, client: httpx.Client) -> None:
    gitea.add_issue_comment("x")["id"] = "not a number"  # what no Gitea would send
    client.get(f"{ISSUE}/comments")
    assert any(e.startswith("response to GET") and "id" in e for e in gitea.schema_errors)
