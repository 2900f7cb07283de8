"""`errors.first_problem`: every kind of validation error our models raise, in plain words
(no pydantic wording such as "Extra inputs are not permitted" or "Value error,")."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from reviewer.errors import first_problem
from reviewer.models import FindingsDocument
from reviewer.settings.config import RepoConfig
from reviewer.settings.slices import DiffSettings, OutputSettings, ReviewSettings

LIBRARY_WORDS = ("Extra inputs", "Value error", "Input should", "not permitted", "Field required")


def problem(model: Any, data: dict[str, Any], *, with_model: bool = True) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    text = first_problem(caught.value, model if with_model else None)
    assert not any(words in text for words in LIBRARY_WORDS), text
    return text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"exclud": ["x"]}, "unknown key `exclud` (did you mean `exclude`?)"),
        ({"skip_vendor": False}, "unknown key `skip_vendor` (did you mean `skip_vendored`?)"),
        ({"zzzz": 1}, "unknown key `zzzz`"),
        ({"max_file_lines": 0}, "max_file_lines: must be at least 1, not 0"),
        ({"max_file_lines": "abc"}, "max_file_lines: expected a whole number, got text 'abc'"),
        ({"max_file_lines": 1.5}, "max_file_lines: expected a whole number, got number 1.5"),
        ({"skip_generated": "maybe"}, "skip_generated: expected true or false, got text 'maybe'"),
        ({"include": "src/*"}, "include: expected a list, got text 'src/*'"),
        ({"include": [1]}, "include.0: expected a string, got number 1"),
        ({"accept_unreviewed": ["nope"]}, "accept_unreviewed: unknown reason 'nope'; accepted: "),
    ],
)
def test_config_file_problems_read_plainly(data: dict[str, Any], expected: str) -> None:
    assert problem(RepoConfig, data).startswith(expected)


def test_an_unknown_key_without_the_model_has_no_guess() -> None:
    assert problem(RepoConfig, {"exclud": []}, with_model=False) == "unknown key `exclud`"


def test_an_enum_member_lists_the_choices() -> None:
    text = problem(OutputSettings, {"fail_on": "High"})
    assert text == "fail_on: 'High' is not one of: critical, high, medium, low or info"


@pytest.mark.parametrize(
    ("model", "data", "expected"),
    [
        (ReviewSettings, {"max_findings": 21}, "max_findings: must be at most 20, not 21"),
        (DiffSettings, {"context_lines": -1}, "context_lines: must be at least 0, not -1"),
    ],
)
def test_ranges_say_the_bound(model: Any, data: dict[str, Any], expected: str) -> None:
    assert problem(model, data) == expected


def test_a_missing_key_says_it_is_required() -> None:
    assert problem(FindingsDocument, {}).endswith(": missing (it is required)")


def test_a_nested_unknown_key_is_guessed_from_the_nested_model() -> None:
    with pytest.raises(ValidationError) as caught:
        FindingsDocument.model_validate({"model": {"backend": "ollama", "nme": "x"}})
    problems = [e for e in caught.value.errors() if e["type"] == "extra_forbidden"]
    assert problems, caught.value
    only_extra = ValidationError.from_exception_data(caught.value.title, [problems[0]])
    assert first_problem(only_extra, FindingsDocument) == (
        "model: unknown key `nme` (did you mean `name`?)"
    )


def test_an_offending_value_is_quoted_short() -> None:
    """A model's answer or a forged document can carry megabytes in a wrong-typed field; the
    message (which lands in the findings document and on the pull request) quotes 40 characters."""
    text = problem(RepoConfig, {"max_file_lines": "x" * 100_000})
    assert text == f"max_file_lines: expected a whole number, got text '{'x' * 38}…"
    assert len(problem(RepoConfig, {"k" * 100_000: 1})) < 80
