"""`json`: the findings document itself, exactly as `reviewer post` reads it."""

from __future__ import annotations

from reviewer.models import FindingsDocument
from reviewer.security import escape_json_text


class JsonFormat:
    name = "json"

    def render(self, document: FindingsDocument) -> str:
        # Same value as the document, but no raw C1 control or bidi character in the bytes.
        return escape_json_text(document.model_dump_json(indent=2)) + "\n"
