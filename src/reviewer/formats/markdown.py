"""`markdown`: the same summary `reviewer post` puts on the pull request."""

from __future__ import annotations

from reviewer.models import FindingsDocument


class MarkdownFormat:
    name = "markdown"

    def render(self, document: FindingsDocument) -> str:
        from reviewer.post.render import summary_body

        return summary_body(document) + "\n"
