"""`json`: the findings document itself, exactly as `reviewer post` reads it."""

from __future__ import annotations

from reviewer.models import FindingsDocument


class JsonFormat:
    name = "json"

    def render(self, document: FindingsDocument) -> str:
        return document.model_dump_json(indent=2) + "\n"
