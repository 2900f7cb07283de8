"""The answer schema and the prompt take their enumerations from the value types, and their
bytes are pinned to PROMPT_VERSION (part of the response-cache key)."""

from __future__ import annotations

import hashlib
import json
from typing import get_args

from reviewer.chunks import prompt
from reviewer.findings.answer import RawFinding
from reviewer.models import Category, Severity


def _enum(name: str) -> list[str]:
    finding = prompt.findings_schema()["properties"]["findings"]["items"]
    values: list[str] = finding["properties"][name]["enum"]
    return values


def test_the_schema_enums_are_the_value_types_members() -> None:
    assert _enum("severity") == [s.value for s in Severity]
    assert _enum("category") == [c.value for c in Category]
    assert _enum("side") == ["new", "old"] == list(prompt.ANSWER_SIDES)


def test_the_parser_accepts_exactly_the_schema_enums() -> None:
    fields = RawFinding.model_fields
    assert list(get_args(fields["side"].annotation)) == _enum("side")
    assert fields["severity"].annotation is Severity
    assert fields["category"].annotation is Category


def test_the_prompt_lists_the_same_members() -> None:
    assert f'"side" ({" or ".join(_enum("side"))}' in prompt.SYSTEM_PROMPT
    for name in ("severity", "category"):
        assert f'"{name}" ({", ".join(_enum(name))})' in prompt.SYSTEM_PROMPT


def test_the_prompt_has_no_answer_the_model_could_copy() -> None:
    # The small real model returned the old example's own `"title": "one line"` as a finding:
    # the fields are described, never shown as a JSON object with values.
    assert "{" not in prompt.SYSTEM_PROMPT
    assert '": "' not in prompt.SYSTEM_PROMPT


# Changing either digest means the model sees something new: bump PROMPT_VERSION with it, so
# the response cache never answers a new prompt with an old answer.
PINNED = {
    "6": (
        "d12a1b2c4a96a0c3d2fb5bebe1cf61b3e1c47bcafe1438d720f4d6888f60943f",
        "bdbe15565c8cdc65b7f3e704dd98711fb4275e8242f48c4843cb5b1364dfd6ce",
    )
}


def test_prompt_and_schema_bytes_are_pinned_to_the_prompt_version() -> None:
    system = hashlib.sha256(prompt.SYSTEM_PROMPT.encode()).hexdigest()
    schema = hashlib.sha256(json.dumps(prompt.findings_schema()).encode()).hexdigest()
    assert PINNED[prompt.PROMPT_VERSION] == (system, schema)
