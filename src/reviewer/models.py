"""The value types that flow through the pipeline: the parsed diff, chunks, findings and the
findings document (the versioned contract between `reviewer run` and `reviewer post`)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Immutable internal value."""

    model_config = ConfigDict(frozen=True)


class Strict(BaseModel):
    """Immutable value parsed from outside the process: unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- the parsed diff -------------------------------------------------------------------------


class LineKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CONTEXT = "context"


class DiffLine(NamedTuple):
    """One diff line. A named tuple, not a pydantic model: a big diff holds hundreds of thousands
    of them, and building a tuple costs a fraction of validating a model (the parser builds
    them from values it checked itself)."""

    kind: LineKind
    old_no: int | None  # None for added lines
    new_no: int | None  # None for removed lines
    text: str  # without the leading +/-/space and without the line ending


class Hunk(Frozen):
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    section: str = ""  # the text after the second @@, often a function name
    lines: tuple[DiffLine, ...]


class FileStatus(StrEnum):
    ADDED = "added"
    DELETED = "deleted"
    MODIFIED = "modified"
    RENAMED = "renamed"
    COPIED = "copied"


class FileDiff(Frozen):
    path: str  # the path at head (for a deleted file, the old path)
    old_path: str | None  # the path at base; None for an added file
    status: FileStatus
    is_binary: bool = False
    is_submodule: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    hunks: tuple[Hunk, ...] = ()
    added: int = 0  # number of added lines, as `git diff --numstat` counts them
    removed: int = 0


class SkipReason(StrEnum):
    # Deleted files and removal-only changes are reviewed (their removed lines): "deleted" and
    # "no_added_lines" are no longer reasons. `SkippedFile.reason` is a plain string, so a
    # document written before still reads.
    BINARY = "binary"
    EMPTY = "empty"  # an empty file added or deleted: no line to review
    RENAME_ONLY = "rename_only"
    MODE_ONLY = "mode_only"
    SUBMODULE = "submodule"
    LOCKFILE = "lockfile"
    MINIFIED = "minified"
    VENDORED = "vendored"
    GENERATED = "generated"
    EXCLUDED = "excluded"
    NOT_INCLUDED = "not_included"
    TOO_LARGE = "too_large"


class SkippedFile(Strict):
    """A file left out of the review, whole. `policy` says whether a rule the pull request
    does not control left it out (the base config's globs, a filter whose judgement held at
    base); otherwise its lines are unreviewed and the review is not complete."""

    path: str
    reason: str  # a SkipReason value; a plain string in the document so it can grow
    policy: bool = True
    added: int = 0  # its changed lines, none of which the model saw
    removed: int = 0


# Not-seen reasons of lines in files that were sent: never policy, never acceptable.
CHUNK_FAILED = "chunk_failed"  # the chunk holding them failed or was not sent
# Removed lines no chunk showed (ChunkFile.removed_lines): a reason that any option may accept.
REMOVED_NOT_SENT = "removed_lines_not_sent"


# --- chunks ----------------------------------------------------------------------------------


class ChunkFile(Frozen):
    """One file's part of a chunk: the line numbers the chunk shows for it, and the text each
    line shows after its prefix (escaped and cut exactly as in the chunk's text), so
    findings are checked against what the model saw without reading the text back."""

    path: str
    added_lines: frozenset[int]  # new-file numbers of added lines shown in this chunk
    context_lines: frozenset[int]  # new-file numbers of context lines shown in this chunk
    removed_lines: frozenset[int] = frozenset()  # old-file numbers of removed lines shown
    # removed line (old number) -> the head-file line it follows (1 at the top): the nearest
    # head line, for formats that can only point at the head file.
    removed_at: Mapping[int, int] = Field(default_factory=dict)
    new_texts: Mapping[int, str]  # new-file number of each added or context line -> its text
    old_texts: Mapping[int, str]  # old-file number of each removed line shown -> its text


class Chunk(Frozen):
    index: int  # 0-based, in sending order
    files: tuple[ChunkFile, ...]
    text: str  # the rendered diff section, exactly as it goes between the prompt delimiters
    estimated_tokens: int


# --- findings --------------------------------------------------------------------------------


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Category(StrEnum):
    SECURITY = "security"
    BUG = "bug"
    PERFORMANCE = "performance"
    MAINTAINABILITY = "maintainability"
    STYLE = "style"


class Finding(Strict):
    path: str
    line: int = Field(ge=1)
    end_line: int = Field(ge=1)
    # GitHub's names: RIGHT is the head side (line/end_line are new-file numbers of added or
    # context lines), LEFT the base side (old-file numbers of removed lines).
    side: Literal["RIGHT", "LEFT"] = "RIGHT"
    # LEFT only: the head-file line the removed lines followed, for formats that can only
    # point at the head file (annotations, SARIF, rdjson). None on RIGHT.
    head_line: int | None = Field(default=None, ge=1)
    severity: Severity
    category: Category
    title: str
    message: str
    suggestion: str | None = None
    fingerprint: str


# --- the findings document -------------------------------------------------------------------


class Status(StrEnum):
    COMPLETE = "complete"
    PARTIAL = "partial"
    SKIPPED = "skipped"
    FAILED = "failed"


class ToolInfo(Strict):
    name: Literal["reviewer"] = "reviewer"
    version: str


class ServerRecord(Strict):
    """One model server of the review (the URL without user info), and why it was taken out
    of the rotation, if it was."""

    url: str
    dropped: str | None = None


class ModelIdentity(Strict):
    """Which model: its server API, name and digest (the evaluation report's model section)."""

    backend: str
    name: str
    digest: str | None = None


class ModelInfo(ModelIdentity):
    """The findings document's model section: the model and the servers that reviewed."""

    servers: tuple[ServerRecord, ...] = ()  # from schema_version 3


class ChunkRecord(Strict):
    """Who answered one reviewed chunk: a server's URL (as in model.servers), or "cache" for
    an answer from the response cache. `chunk` is its number as messages show it (1-based)."""

    chunk: int
    server: str


class Stats(Strict):
    files_reviewed: int = 0
    chunks: int = 0
    chunks_failed: int = 0
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    findings_dropped: int = 0
    # findings_dropped by reason (findings.answer.Drop's names), only reasons that occurred
    findings_dropped_by: dict[str, int] = Field(default_factory=dict)
    duration_s: float = 0.0
    # Filled from issue 6 on: the response cache and the token estimate.
    cache_hits: int = 0
    cache_misses: int = 0
    cached_prompt_tokens: int = 0
    estimated_prompt_tokens: int = 0


class NotSeen(Strict):
    """A group of one file's changed lines the model did not see, and why."""

    reason: str
    policy: bool  # True: left out by a rule the pull request does not control
    added: int = 0
    removed: int = 0


class FileCoverage(Strict):
    """One changed file: its added and removed lines, those the model saw, the rest by reason."""

    path: str
    added: int = 0
    removed: int = 0
    added_seen: int = 0
    removed_seen: int = 0
    not_seen: tuple[NotSeen, ...] = ()


class Coverage(Strict):
    """Honest accounting: every changed line was seen by the model, left out by policy, or is
    unreviewed. `status: complete` requires no unreviewed line."""

    added: int = 0
    removed: int = 0
    added_seen: int = 0
    removed_seen: int = 0
    added_policy: int = 0
    removed_policy: int = 0
    added_unreviewed: int = 0
    removed_unreviewed: int = 0
    # Files with an unreviewed group: a binary file has no lines, yet can be unreviewed.
    files_unreviewed: int = 0
    files: tuple[FileCoverage, ...] = ()


class ErrorEntry(Strict):
    kind: str
    message: str


class AppliedRule(Strict):
    """One of the repository's review rules (read from the base revision) that went to the
    model: where it was read, the paths it is scoped to (empty: every chunk), and how many of
    the plan's chunks carried it."""

    source: str
    paths: tuple[str, ...] = ()
    chunks: int = 0


class FindingsDocument(Strict):
    # 2 adds `rules`, 3 `model.servers` and `chunks`; older documents (without them) still load.
    schema_version: Literal[1, 2, 3] = 3
    status: Status
    tool: ToolInfo
    model: ModelInfo
    base: str | None = None
    head: str | None = None
    findings: tuple[Finding, ...] = ()
    # Findings the repository's baseline accepts: kept here, never reported, posted or gated on.
    accepted: tuple[Finding, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    stats: Stats = Stats()
    errors: tuple[ErrorEntry, ...] = ()
    coverage: Coverage = Coverage()
    rules: tuple[AppliedRule, ...] = ()
    chunks: tuple[ChunkRecord, ...] = ()  # the reviewed chunks, in order


# --- the plan: what a run will send ----------------------------------------------------------


class Rule(Frozen):
    """One review rule of the repository, read from the base revision (the team's words, not
    the pull request's), bounded in size when it was read."""

    source: str  # where it was read: ".reviewer/rules.md", ".reviewer.toml instructions"...
    text: str
    paths: tuple[str, ...] = ()  # globs of the files it is for; empty: every chunk


class PromptContext(Frozen):
    """What the model is told beside the diff, the same for every chunk of a run: the
    change's intent (the author's words, already rendered with fixed line prefixes, escaped
    and bounded; "" for none) and the repository's rules."""

    intent: str = ""
    rules: tuple[Rule, ...] = ()


NO_CONTEXT = PromptContext()  # the diff alone: no intent, no rules


class ReviewPlan(Frozen):
    """The diff after parsing, filtering and chunking: everything decided before the model."""

    base: str | None = None  # resolved commit sha, when the diff came from git
    head: str | None = None
    files: tuple[FileDiff, ...] = ()  # the files to review
    skipped: tuple[SkippedFile, ...] = ()
    chunks: tuple[Chunk, ...] = ()
    accepted: frozenset[str] = frozenset()  # the baseline's fingerprints, not reported again
    context: PromptContext = NO_CONTEXT
    # The model's real tokens per estimated token the chunks were cut with (1.0: the raw
    # estimate); every prompt's estimate is scaled by it (chunks/scale.py).
    token_scale: float = 1.0
