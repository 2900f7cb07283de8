"""The shared spec helper: the fakes' tests skip, naming the file, when ../shared is absent,
and the null-dropping that works around GitLab's unmarked nullable fields drops only nulls."""

from __future__ import annotations

import pytest

from tests.hosts.spec import load_spec, problems, require_spec, without_nulls


def test_a_missing_spec_skips_with_its_name() -> None:
    assert load_spec("no-such-host.json") is None
    with pytest.raises(
        pytest.skip.Exception, match=r"\.\./shared/specs/no-such-host\.json is missing"
    ):
        require_spec("no-such-host.json")


def test_only_null_fields_are_dropped_before_validation() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {
                "type": "array",
                "items": {"type": "object", "properties": {"c": {"type": "integer"}}},
            },
        },
    }
    kept = without_nulls({"a": None, "b": [{"c": None}, {"c": "x"}]})
    assert kept == {"b": [{}, {"c": "x"}]}
    assert problems(schema, kept) == ["b/1/c: 'x' is not of type 'integer'"]
