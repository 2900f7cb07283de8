"""What is sent to the model for a chunk (one place, for the review loop and the dry run), and
the --show-prompts directory that records it: each request as the exact bytes the backend posts,
written before it is sent (a real run) or instead of sending it (a dry run)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reviewer.backends.interface import ModelBackend
from reviewer.chunks.prompt import SYSTEM_PROMPT, chunk_rules, system_prompt, user_message
from reviewer.errors import UsageError
from reviewer.models import NO_CONTEXT, AppliedRule, Chunk, PromptContext, ReviewPlan


def chunk_request(
    backend: ModelBackend,
    chunk: Chunk,
    schema: dict[str, Any],
    context: PromptContext = NO_CONTEXT,
) -> tuple[str, bytes]:
    """The user message for `chunk` in a run with `context` (the intent, the rules) and the
    whole request body the backend posts for it."""
    user = user_message(chunk, context)
    return user, backend.request_body(system_prompt(context), user, schema=schema)


def applied_rules(plan: ReviewPlan) -> tuple[AppliedRule, ...]:
    """The repository's rules the plan's chunks carried, each with how many chunks."""
    return tuple(
        AppliedRule(
            source=rule.source,
            paths=rule.paths,
            chunks=sum(1 for c in plan.chunks if rule in chunk_rules(c, plan.context))
            if rule.paths
            else len(plan.chunks),
        )
        for rule in plan.context.rules
    )


class PromptLog:
    """The --show-prompts directory: system-prompt.txt once (it is the same for every request),
    then per chunk its user message (chunk-0001.txt) and the request body byte for byte
    (chunk-0001.json: model, messages, schema, options, as posted)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def open(cls, directory: Path, system: str = SYSTEM_PROMPT) -> PromptLog:
        """Make the directory ready before any request: created when missing, and emptied of
        an earlier run's chunk files (an audit must not see requests this run did not make)."""
        if directory.exists() and not directory.is_dir():
            raise UsageError(
                f"--show-prompts {directory} is a file, not a directory",
                hint="pass a directory (it is created when missing)",
            )
        log = cls(directory)
        with log._writing():
            directory.mkdir(parents=True, exist_ok=True)
            for stale in [*directory.glob("chunk-*.txt"), *directory.glob("chunk-*.json")]:
                stale.unlink()
            (directory / "system-prompt.txt").write_text(system, encoding="utf-8")
        return log

    def record(self, chunk: Chunk, user: str, body: bytes) -> None:
        """Write one request. Raises UsageError when it cannot: a request that cannot be
        recorded as asked is not sent."""
        stem = self.directory / f"chunk-{chunk.index + 1:04d}"
        with self._writing():
            stem.with_suffix(".txt").write_text(user, encoding="utf-8")
            stem.with_suffix(".json").write_bytes(body)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        try:
            yield
        except OSError as e:
            raise UsageError(
                f"cannot write --show-prompts {self.directory}: {e.strerror or e}",
                hint="pass a writable directory",
            ) from e


def write_all(
    directory: Path, plan: ReviewPlan, backend: ModelBackend, schema: dict[str, Any]
) -> None:
    """The dry run's log: every request the review would send, none sent."""
    log = PromptLog.open(directory, system_prompt(plan.context))
    for chunk in plan.chunks:
        log.record(chunk, *chunk_request(backend, chunk, schema, plan.context))
