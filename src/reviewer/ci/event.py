"""The GitHub Actions event file (GITHUB_EVENT_PATH): read once per call with a size bound, and
seen only through a typed view of the pull request it names. A file that cannot be read or is
not JSON is an EventFileError with one clear line; a file that is not about a pull request is
an empty view, not an error (a push event has no pull request)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewer.errors import UsageError

EVENT_PATH_ENV = "GITHUB_EVENT_PATH"
# GitHub caps a webhook payload at 25 MB; anything larger is not an event file.
MAX_EVENT_BYTES = 32 * 1024 * 1024


class EventFileError(UsageError):
    """The event file exists in the environment but cannot be read as JSON."""


@dataclass(frozen=True)
class PullRequestEvent:
    """What the event says about its pull request; every field None when it names none."""

    number: int | None = None
    base_sha: str | None = None
    head_sha: str | None = None
    repository: str | None = None  # owner/name, from repository.full_name
    # The author's own words (untrusted): pull_request.title and pull_request.body.
    title: str | None = None
    body: str | None = None


def read_event(env: Mapping[str, str]) -> PullRequestEvent:
    """The pull request of the event in $GITHUB_EVENT_PATH (an empty view without one)."""
    path = env.get(EVENT_PATH_ENV)
    if not path:
        return PullRequestEvent()
    return pull_request_of(_load(path))


def _load(path: str) -> Any:
    def fail(why: object) -> EventFileError:
        return EventFileError(f"cannot read the event file {EVENT_PATH_ENV}={path}: {why}")

    try:
        with Path(path).open("rb") as f:
            raw = f.read(MAX_EVENT_BYTES + 1)
    except OSError as e:
        raise fail(e) from e
    if len(raw) > MAX_EVENT_BYTES:
        raise fail(f"larger than {MAX_EVENT_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as e:  # not UTF-8, or not JSON
        raise fail(e) from e
    except RecursionError as e:
        raise fail("JSON nested too deeply") from e


def pull_request_of(event: Any) -> PullRequestEvent:
    """The typed view of a parsed event: only well-typed values are kept."""
    pull = event.get("pull_request") if isinstance(event, dict) else None
    if not isinstance(pull, dict):
        return PullRequestEvent()
    number = pull.get("number", event.get("number"))
    repository = event.get("repository")
    return PullRequestEvent(
        number=number if isinstance(number, int) and not isinstance(number, bool) else None,
        base_sha=_sha(pull, "base"),
        head_sha=_sha(pull, "head"),
        repository=_text(repository.get("full_name")) if isinstance(repository, dict) else None,
        title=_text(pull.get("title")),
        body=_text(pull.get("body")),
    )


def _sha(pull: dict[str, Any], side: str) -> str | None:
    ref = pull.get(side)
    return _text(ref.get("sha")) if isinstance(ref, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
