"""`markdown`: the same summary `reviewer post` puts on the pull request."""

from __future__ import annotations

from reviewer.formats.common import clean_document
from reviewer.models import FindingsDocument
from reviewer.security import neutralise_lines, neutralise_terminal


class MarkdownFormat:
    name = "markdown"

    def render(self, document: FindingsDocument) -> str:
        from reviewer.post.render import summary_body

        # Often read on a terminal or in a job log before it reaches a page: control
        # characters (C1 and line separators included) are shown as escapes first.
        document = clean_document(document, neutralise_terminal, neutralise_lines)
        return summary_body(document) + "\n"
