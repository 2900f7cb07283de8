"""The output-format stage: one `Format` per name, each turning a findings document into text."""

from __future__ import annotations

from typing import Protocol

from reviewer.models import FindingsDocument


class Format(Protocol):
    """Renders a whole findings document; the result is written as is (stdout or a file)."""

    name: str

    def render(self, document: FindingsDocument) -> str: ...
