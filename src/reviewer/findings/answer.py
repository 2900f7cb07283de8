"""Strict parsing of the model's answer and validation of each finding against its chunk.

An answer that is not exactly `{"findings": [...]}` of the published shape is invalid (the
review loop retries it once). A well-formed finding that points outside the chunk (a path the
chunk does not show, a line it did not show as added, or as removed for `"side": "old"`) is
dropped and counted, never fatal, and so is every finding after the first
MAX_FINDINGS_PER_CHUNK (the schema's maxItems)."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError

from reviewer.chunks.prompt import (
    MAX_FINDINGS_PER_CHUNK,
    MAX_MESSAGE_CHARS,
    MAX_PATH_CHARS,
    MAX_SUGGESTION_CHARS,
    MAX_TITLE_CHARS,
)
from reviewer.errors import InvalidAnswerError, first_problem
from reviewer.models import Category, Chunk, Finding, Severity, Strict
from reviewer.settings.config import FilterMode

_FENCE = re.compile(r"\A```[A-Za-z0-9_-]*[ \t]*\n(?P<body>.*)\n```\Z", re.DOTALL)
_SPACE = re.compile(r"\s+")
# Lone surrogates (a server that decoded broken UTF-8 with surrogateescape or sent them as raw
# code points) cannot be encoded as UTF-8; they become U+FFFD like any other broken byte.
_SURROGATE = re.compile("[\ud800-\udfff]")

Side = Literal["RIGHT", "LEFT"]


class RawFinding(Strict):
    """One finding exactly as the model must write it. Strict: "6" is not a line number."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    path: str = Field(min_length=1, max_length=MAX_PATH_CHARS)
    side: Literal["new", "old"]  # "old": a removed line, by its old-file number
    line: int = Field(ge=1)
    end_line: int | None = Field(ge=1)
    severity: Severity
    category: Category
    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    suggestion: str | None = Field(max_length=MAX_SUGGESTION_CHARS)


class RawAnswer(Strict):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    # No maxItems here: an answer with too many findings is capped by `validate`, not refused
    # (the answer's size is already bounded by the backend).
    findings: tuple[RawFinding, ...]


def strip_fence(text: str) -> str:
    """Trim, then remove one surrounding ``` fence (``` or ```json) if there is one."""
    text = text.strip()
    match = _FENCE.match(text)
    return match.group("body").strip() if match else text


def parse_answer(content: str) -> tuple[RawFinding, ...]:
    """The findings of an answer, or InvalidAnswerError for anything but the exact shape."""
    body = _SURROGATE.sub("\ufffd", strip_fence(content))
    if not body.startswith("{"):
        raise InvalidAnswerError("the answer is not a JSON object")
    try:
        # Every field is required (no defaults): a missing `end_line` is an invalid answer.
        answer = RawAnswer.model_validate_json(body)
    except ValidationError as e:
        raise InvalidAnswerError(f"invalid answer at {first_problem(e)}") from None
    return answer.findings


class Drop(Enum):
    """Why a well-formed finding was not kept: the names are the findings document's keys
    (stats.findings_dropped_by), the values the words people read."""

    unsafe_path = "naming a path outside the repository"
    path_not_in_chunk = "naming a file not in the chunk"
    bad_range = "with an impossible line range"
    line_not_changed = "not on lines the chunk changed"
    over_limit = "over the chunk's findings limit"


@dataclass(frozen=True)
class Dropped:
    """A finding that was not kept, as the model wrote it (its text untrusted), and why."""

    reason: Drop
    path: str
    side: str
    line: int
    end_line: int | None
    title: str


@dataclass(frozen=True)
class Validated:
    findings: tuple[Finding, ...]
    drops: tuple[Dropped, ...] = ()

    @property
    def dropped(self) -> int:
        return len(self.drops)


def validate(
    raw: tuple[RawFinding, ...],
    chunk: Chunk,
    mode: FilterMode = FilterMode.ADDED,
    max_findings: int = MAX_FINDINGS_PER_CHUNK,
) -> Validated:
    """Keep the findings that point at lines this chunk showed, of the first `max_findings`
    (the schema's maxItems, for servers that ignore it); count the rest as dropped."""
    limit = min(max_findings, MAX_FINDINGS_PER_CHUNK)
    kept: list[Finding] = []
    drops: list[Dropped] = []
    for index, r in enumerate(raw):
        checked = _check(r, chunk, mode) if index < limit else Drop.over_limit
        if isinstance(checked, Finding):
            kept.append(checked)
        else:
            drops.append(Dropped(checked, r.path, r.side, r.line, r.end_line, r.title))
    return Validated(findings=tuple(kept), drops=tuple(drops))


def _check(raw: RawFinding, chunk: Chunk, mode: FilterMode) -> Finding | Drop:
    if not _safe_path(raw.path):
        return Drop.unsafe_path
    file = next((f for f in chunk.files if f.path == raw.path), None)
    if file is None:
        return Drop.path_not_in_chunk
    end = raw.line if raw.end_line is None else raw.end_line
    side: Side = "LEFT" if raw.side == "old" else "RIGHT"
    # A LEFT finding names removed lines only, in either mode: context lines have a new-file
    # number and are reported on the RIGHT under diff_context.
    allowed = file.removed_lines if side == "LEFT" else file.added_lines
    if side == "RIGHT" and mode is FilterMode.DIFF_CONTEXT:
        allowed = allowed | file.context_lines
    if end < raw.line or end - raw.line >= max(len(allowed), 1):
        return Drop.bad_range
    if any(n not in allowed for n in range(raw.line, end + 1)):
        return Drop.line_not_changed
    # The flagged lines' texts as the chunk showed them (every allowed line has one).
    texts = file.old_texts if side == "LEFT" else file.new_texts
    flagged = [texts[n] for n in range(raw.line, end + 1)]
    return Finding(
        path=raw.path,
        line=raw.line,
        end_line=end,
        side=side,
        head_line=file.removed_at.get(raw.line) if side == "LEFT" else None,
        severity=raw.severity,
        category=raw.category,
        title=_one_line(raw.title),
        message=raw.message.strip(),
        suggestion=raw.suggestion,
        fingerprint=fingerprint(raw.path, raw.category, raw.title, flagged, side),
    )


def _safe_path(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return not path.startswith("/") and ".." not in parts and "\x00" not in path


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def fingerprint(
    path: str, category: Category, title: str, flagged: list[str], side: Side = "RIGHT"
) -> str:
    """A stable id for "this problem at this code": the path, the category, the title, the
    flagged lines' text, all whitespace-normalised, and the side. No line numbers, so the id
    survives lines added or removed above it; the poster uses it to avoid posting a finding
    twice. The side is mixed in for LEFT only, so RIGHT ids stay what they were."""
    code = "\n".join(_one_line(t) for t in flagged)
    parts = ["v1", path, category.value, _one_line(title).lower(), code]
    basis = "\x1f".join([*parts, "LEFT"] if side == "LEFT" else parts)
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def merge(findings: list[Finding]) -> tuple[Finding, ...]:
    """Deduplicate (the same finding from overlapping chunks appears once, the most severe copy
    kept), make fingerprints unique within the document, and sort deterministically."""
    best: dict[tuple[str, str, int, int, str], Finding] = {}
    for f in findings:
        key = (f.path, f.side, f.line, f.end_line, f.fingerprint)
        if key not in best or f.severity.rank > best[key].severity.rank:
            best[key] = f
    ordered = sorted(best.values(), key=_sort_key)
    return tuple(unique_fingerprints(ordered))


def _sort_key(f: Finding) -> tuple[str, int, int, int, str, str, str]:
    return (f.path, f.line, -f.severity.rank, f.end_line, f.title, f.side, f.fingerprint)


def unique_fingerprints(ordered: list[Finding]) -> list[Finding]:
    """The same text flagged for the same reason in two places (two identical lines) would
    share a fingerprint; the second and later ones get an occurrence number mixed in."""
    seen: dict[str, int] = {}
    out: list[Finding] = []
    for f in ordered:
        n = seen.get(f.fingerprint, 0)
        seen[f.fingerprint] = n + 1
        if n:
            again = hashlib.sha256(f"{f.fingerprint}#{n}".encode()).hexdigest()[:32]
            f = f.model_copy(update={"fingerprint": again})
        out.append(f)
    return out
