"""The error hierarchy: one root, one base per stage, each carrying a user-facing message,
an optional hint and the exit code the CLI maps it to."""

from __future__ import annotations

from enum import IntEnum

from pydantic import ValidationError


class ExitCode(IntEnum):
    """Exit codes are part of the interface; the README documents each."""

    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # usage, configuration or input error
    NOT_REVIEWED = 3  # review not completed (fail closed) / GitHub refused or unreachable


class ReviewerError(Exception):
    """Root of every error the CLI turns into a one-line message instead of a traceback."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(ReviewerError):
    """Bad flags or flag combinations."""


class ConfigError(ReviewerError):
    """A configuration file or environment value that cannot be used."""


class DiffError(ReviewerError):
    """The diff could not be obtained or read: bad repository, unknown ref, unreadable file."""


class PolicyError(ReviewerError):
    """A security policy refused the request (for example a model URL outside the network)."""


class ModelError(ReviewerError):
    """The model server could not complete the review. Fails closed with exit code 3."""

    exit_code = ExitCode.NOT_REVIEWED

    def __init__(self, message: str, hint: str | None = None, *, kind: str = "model") -> None:
        super().__init__(message, hint)
        self.kind = kind


class InvalidAnswerError(ModelError):
    """The answer cannot be used (not the findings JSON, or cut off at the token cap). The
    review loop retries the chunk once, then counts it as failed."""

    def __init__(
        self,
        message: str,
        *,
        kind: str = "invalid_answer",
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        super().__init__(
            message,
            "a model or server that ignores the JSON schema; try another model, "
            "or raise --num-predict if the answer was cut off",
            kind=kind,
        )
        # What the unusable answer cost, so the run's token counts stay true.
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens

class BudgetError(ReviewerError):
    """The review is larger than the run may spend (--max-chunks): not reviewed, exit 3."""

    exit_code = ExitCode.NOT_REVIEWED


class FindingsDocumentError(ReviewerError):
    """A findings document that is not valid JSON or not of the published schema."""


class PostError(ReviewerError):
    """GitHub refused the post or could not be reached after retries."""

    exit_code = ExitCode.NOT_REVIEWED


def first_problem(error: ValidationError) -> str:
    """`where: what` of a validation error's first problem, for a one-line message."""
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"
