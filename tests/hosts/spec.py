"""The hosts' API descriptions in ../shared/specs (GitHub, GitLab, Gitea), shared by the fake
servers: loading them, the skip when they are absent, validating a request or a response body
against an operation's schema, and a minimal value of a schema's shape."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

SPECS = Path(__file__).resolve().parents[2] / ".." / "shared" / "specs"


@cache
def _read(name: str) -> str | None:
    path = SPECS / name
    return path.read_text() if path.is_file() else None


def load_spec(name: str) -> dict[str, Any] | None:
    """The spec file `name` (for example `gitlab-rest-subset.json`), or None when absent."""
    text = _read(name)
    return json.loads(text) if text is not None else None


def require_spec(name: str) -> dict[str, Any]:
    """The spec, or skip the test: the fakes are only as faithful as the host's own schemas."""
    spec = load_spec(name)
    if spec is None:
        pytest.skip(f"../shared/specs/{name} is missing beside the project")
    return spec


def request_schema(spec: dict[str, Any], template: str, method: str) -> dict[str, Any] | None:
    op = spec["paths"][template][method.lower()]
    content = op.get("requestBody", {}).get("content", {})
    return content.get("application/json", {}).get("schema")  # type: ignore[no-any-return]


def response_schema(
    spec: dict[str, Any],
    template: str,
    method: str,
    status: int,
    content_type: str = "application/json",
) -> dict[str, Any] | None:
    op = spec["paths"][template][method.lower()]
    content = op.get("responses", {}).get(str(status), {}).get("content", {})
    return content.get(content_type, {}).get("schema")  # type: ignore[no-any-return]


def problems(schema: dict[str, Any], value: Any) -> list[str]:
    """Every way `value` breaks `schema`, one line each (with where in the value)."""
    found = jsonschema.Draft202012Validator(schema).iter_errors(value)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message}" for e in found]


def without_nulls(value: Any) -> Any:
    """The value with its null-valued keys dropped. GitLab's generated entities mark no field
    nullable (README-hosts.md, Known limits) while the real API sends `null` (`resolved_by`,
    `merged_by`...): the fakes send the nulls, and validate what is left."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def example(schema: dict[str, Any]) -> Any:
    """A minimal value of the schema's shape: required properties only."""
    for key in ("oneOf", "anyOf", "allOf"):
        if key in schema:
            return example(schema[key][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if schema.get("nullable") and kind != "object":
        return None
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: example(props.get(name, {})) for name in schema.get("required", [])}
    return {
        "string": _string(schema),
        "integer": 1,
        "number": 1,
        "boolean": False,
        "array": [],
        "null": None,
    }.get(kind, None)


def _string(schema: dict[str, Any]) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2024-01-01T00:00:00Z"
    if fmt == "uri":
        return "https://github.example/x"
    return "x"
