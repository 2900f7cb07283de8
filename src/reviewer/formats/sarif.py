"""`sarif`: SARIF 2.1.0 as GitHub code scanning accepts it (one rule per category)."""

from __future__ import annotations

import json
from typing import Any

from reviewer import DISTRIBUTION
from reviewer.formats.common import head_span, line_span, removed_lines, sorted_findings
from reviewer.models import Category, Finding, FindingsDocument, Severity, Status
from reviewer.security import escape_json_text

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "reviewer/v1"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# code scanning sorts alerts by this number (0.0-10.0).
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def rule_id(category: Category) -> str:
    return f"reviewer/{category.value}"


def _rule(category: Category) -> dict[str, Any]:
    return {
        "id": rule_id(category),
        "name": category.value.title(),
        "shortDescription": {"text": f"{category.value} issue found by a local model review"},
        "properties": {"tags": [category.value]},
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    # SARIF locates results in the analysed (head) files: a LEFT finding points at the head
    # line the removed lines followed, says so in its message, and keeps its old-file lines
    # in the properties.
    first, last = head_span(finding)
    properties: dict[str, Any] = {"severity": finding.severity.value}
    if finding.category is Category.SECURITY:
        properties["security-severity"] = SECURITY_SEVERITY[finding.severity]
    note = ""
    if finding.side == "LEFT":
        old_first, old_last = line_span(finding)
        properties.update(side="LEFT", oldStartLine=old_first, oldEndLine=old_last)
        note = f" ({removed_lines(finding)})"
    return {
        "ruleId": rule_id(finding.category),
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.title}{note}\n\n{finding.message}".strip()},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": finding.path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": first, "endLine": last},
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": properties,
    }


def _invocation(document: FindingsDocument) -> dict[str, Any]:
    notes = [
        {"level": "error", "message": {"text": f"{e.kind}: {e.message}"}} for e in document.errors
    ]
    return {
        "executionSuccessful": document.status is Status.COMPLETE,
        "toolExecutionNotifications": notes,
        "properties": {"status": document.status.value},
    }


class SarifFormat:
    name = "sarif"

    def render(self, document: FindingsDocument) -> str:
        categories = list(Category)
        # No informationUri: the distribution is not on PyPI, and where its repository lives is
        # each site's own choice (OWNER/reviewer in the examples). A link to a page anyone could
        # register later would send a reader of the alert to whoever registers it.
        driver = {
            "name": "reviewer",
            "fullName": f"{DISTRIBUTION} {document.tool.version}",
            "version": document.tool.version,
            "semanticVersion": document.tool.version,
            "rules": [_rule(c) for c in categories],
        }
        results = [
            _result(f, categories.index(f.category)) for f in sorted_findings(document.findings)
        ]
        log = {
            "$schema": SCHEMA_URI,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": driver},
                    "invocations": [_invocation(document)],
                    "results": results,
                }
            ],
        }
        return escape_json_text(json.dumps(log, indent=2, ensure_ascii=False)) + "\n"
