"""`markdown`: the same summary `reviewer post` puts on the pull request."""

from __future__ import annotations

from reviewer.formats.summary import summary_body
from reviewer.models import FindingsDocument
from reviewer.security import defuse_workflow_commands


class MarkdownFormat:
    name = "markdown"

    def render(self, document: FindingsDocument) -> str:
        # summary_body shows every hidden character as an escape and makes every field inert
        # Markdown. Often printed in a job log first: no line may read as a workflow command
        # (a code block's line could start with `::`).
        return defuse_workflow_commands(summary_body(document) + "\n")
