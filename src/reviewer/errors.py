"""The error hierarchy: one root, one base per stage, each carrying a user-facing message,
an optional hint and the exit code the CLI maps it to."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from enum import IntEnum
from typing import Any, get_args

from pydantic import BaseModel, ValidationError


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


def first_problem(error: ValidationError, model: type[BaseModel] | None = None) -> str:
    """`where: what` of a validation error's first problem, for a one-line message in our own
    words (pydantic's, such as "Extra inputs are not permitted", mean little to a reader).
    Given the model that was validated, an unknown key comes with the nearest known one."""
    first = error.errors()[0]
    loc = tuple(first["loc"])
    if first["type"] == "extra_forbidden" and loc:
        *parent, name = loc
        known = _known_keys(model, tuple(parent))
        near = difflib.get_close_matches(str(name), known, n=1)
        where = _where(tuple(parent))
        guess = f" (did you mean `{near[0]}`?)" if near else ""
        return f"{where + ': ' if parent else ''}unknown key `{_cut(str(name))}`{guess}"
    return f"{_where(loc)}: {_what(first)}"


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


SHOWN_INPUT = 40  # characters of an offending value quoted in a message


def _cut(text: str) -> str:
    """A quoted value kept short: it can come from a model's answer or a forged document, and
    the message lands in the findings document and on the pull request."""
    return text if len(text) <= SHOWN_INPUT else text[: SHOWN_INPUT - 1] + "…"


def _shown(value: object) -> str:
    return _cut(repr(value))


_TYPE_NAMES = {
    "string": "a string",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "list": "a list",
    "tuple": "a list",
    "dict": "a table (key = value pairs)",
    "model": "a table (key = value pairs)",
}


def _what(problem: Mapping[str, Any]) -> str:
    """The problem in plain words, for every kind of error our models can raise."""
    kind, ctx, msg = str(problem["type"]), problem.get("ctx", {}), str(problem["msg"])
    got = problem.get("input")
    if kind == "missing":
        return "missing (it is required)"
    if kind in ("enum", "literal_error"):
        choices = str(ctx.get("expected", "")).replace("'", "")
        return f"{_shown(got)} is not one of: {choices}"
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {next(iter(ctx.values()))}, not {_shown(got)}"
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        return msg.replace("Value should", "must").replace("String should", "must")
    stem = kind.removesuffix("_type").removesuffix("_parsing").removesuffix("_from_float")
    if stem in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[stem]}, got {_kind_of(got)} {_shown(got)}"
    if kind == "value_error":
        return str(ctx.get("error", msg))
    return msg


def _kind_of(value: object) -> str:
    """What a value is, in the words of a TOML or JSON file rather than Python's."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    names = {str: "text", list: "list", tuple: "list", dict: "table"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), "value")


_BOUNDS = {
    "greater_than_equal": "at least",
    "greater_than": "more than",
    "less_than_equal": "at most",
    "less_than": "less than",
}


def _known_keys(model: type[BaseModel] | None, parent: tuple[int | str, ...]) -> list[str]:
    """The field names at `parent` inside `model`, following nested models (and sequences of
    them) down the error's location."""
    for part in parent:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        model = _inner_model(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _inner_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
