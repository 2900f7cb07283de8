"""`github`: workflow commands (`::error file=...::message`) that annotate the job and the diff."""

from __future__ import annotations

from reviewer.formats.common import (
    clean_document,
    head_span,
    removed_lines,
    sorted_findings,
    status_sentence,
)
from reviewer.models import Finding, FindingsDocument, Severity, Status
from reviewer.security import escape_hidden

COMMANDS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "notice",
    Severity.INFO: "notice",
}


def _clean(text: str) -> str:
    """Hidden characters shown as escapes, except CR and LF: escape_data encodes those the
    way the runner decodes them (%0D, %0A), so they never reach the log raw. Nothing else is
    changed: inside our command a `::` or `##[` is data, and `file` must stay the path."""
    return escape_hidden(text, keep="\t\n\r")


def escape_data(text: str) -> str:
    """The message part, escaped as @actions/core escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value, escaped as @actions/core escapes it."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: dict[str, str], message: str) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return (
        f"::{name} {props}::{escape_data(message)}"
        if props
        else f"::{name}::{escape_data(message)}"
    )


def annotation(finding: Finding) -> str:
    # A LEFT finding points at the nearest head line and says which removed lines it means.
    first, last = head_span(finding)
    note = f" ({removed_lines(finding)})" if finding.side == "LEFT" else ""
    properties = {
        "file": finding.path,
        "line": str(first),
        "endLine": str(last),
        "title": f"[{finding.severity.value}] {finding.title}{note}",
    }
    return command(COMMANDS[finding.severity], properties, finding.message)


class GithubFormat:
    name = "github"

    def render(self, document: FindingsDocument) -> str:
        # Workflow commands are read from the job log, which is a terminal emulator too:
        # control characters are shown as escapes before the Actions escaping.
        document = clean_document(document, _clean)
        lines = []
        if document.status is not Status.COMPLETE:
            lines.append(command("warning", {"title": "reviewer"}, status_sentence(document)))
        lines.extend(annotation(f) for f in sorted_findings(document.findings))
        return "".join(line + "\n" for line in lines)
