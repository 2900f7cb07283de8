"""Output formats: `render(document, name)` for `reviewer run --format` and `reviewer report`."""

from __future__ import annotations

from collections.abc import Callable

from reviewer.errors import UsageError
from reviewer.formats.baseline import BaselineFormat
from reviewer.formats.codequality import CodeQualityFormat
from reviewer.formats.github import GithubFormat
from reviewer.formats.interface import Format
from reviewer.formats.json import JsonFormat
from reviewer.formats.markdown import MarkdownFormat
from reviewer.formats.rdjson import RdjsonFormat, RdjsonlFormat
from reviewer.formats.sarif import SarifFormat
from reviewer.formats.text import TextFormat
from reviewer.models import FindingsDocument

_FACTORIES: dict[str, Callable[[], Format]] = {
    "text": TextFormat,
    "json": JsonFormat,
    "sarif": SarifFormat,
    "rdjson": RdjsonFormat,
    "rdjsonl": RdjsonlFormat,
    "markdown": MarkdownFormat,
    "github": GithubFormat,
    "codequality": CodeQualityFormat,
    "baseline": BaselineFormat,
}
FORMAT_NAMES: tuple[str, ...] = tuple(_FACTORIES)

__all__ = ["FORMAT_NAMES", "Format", "format_name", "get_format", "render"]


def format_name(name: str) -> str:
    """The format `name` stands for (case-insensitive); UsageError names the valid ones."""
    canonical = name.strip().lower()
    if canonical not in _FACTORIES:
        raise UsageError(
            f"unknown format {name!r}",
            hint=f"use one of: {', '.join(FORMAT_NAMES)}",
        )
    return canonical


def get_format(name: str) -> Format:
    """The format called `name` (case-insensitive); UsageError names the valid ones."""
    return _FACTORIES[format_name(name)]()


def render(document: FindingsDocument, name: str) -> str:
    return get_format(name).render(document)
