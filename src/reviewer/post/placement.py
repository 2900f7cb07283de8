"""Where each finding goes: inline on a commentable RIGHT-side line of the pull request's current
patches, or the summary. Decided from GitHub's own file list, never from the reviewed diff."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reviewer.formats.common import line_span
from reviewer.models import Finding

_HUNK = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class Where(StrEnum):
    INLINE = "inline"  # an inline review comment
    REVIEW = "review"  # in full in a review body (after GitHub refused the inline comments)
    SUMMARY = "summary"  # in full in the summary comment


@dataclass(frozen=True)
class Placed:
    finding: Finding
    where: Where
    already_posted: bool = False
    reason: str = ""  # why it is not inline


def commentable_hunks(patch: str) -> list[frozenset[int]]:
    """New-file line numbers GitHub accepts a RIGHT-side comment on, one set per hunk
    (added and context lines; a multi-line comment must stay inside one hunk)."""
    hunks: list[frozenset[int]] = []
    lines: set[int] = set()
    new_no = old_left = new_left = 0
    in_hunk = False
    for text in patch.split("\n"):
        m = _HUNK.match(text)
        if m:
            if in_hunk:
                hunks.append(frozenset(lines))
            lines, in_hunk = set(), True
            old_left = int(m.group(1) or "1")
            new_no, new_left = int(m.group(2)), int(m.group(3) or "1")
            continue
        if not in_hunk or text.startswith("\\"):
            continue
        kind = text[:1]
        if kind == "+" and new_left > 0:
            lines.add(new_no)
            new_no, new_left = new_no + 1, new_left - 1
        elif kind == "-":
            old_left -= 1
        elif kind in (" ", "") and new_left > 0 and old_left > 0:
            # "" is a context line whose single space was lost on the way; count it.
            lines.add(new_no)
            new_no, new_left, old_left = new_no + 1, new_left - 1, old_left - 1
    if in_hunk:
        hunks.append(frozenset(lines))
    return hunks


@dataclass(frozen=True)
class PullFiles:
    """The pull request's files as GitHub lists them: path -> hunks (None: no patch shown)."""

    hunks: Mapping[str, list[frozenset[int]] | None]

    @classmethod
    def from_api(cls, files: Iterable[Mapping[str, Any]]) -> PullFiles:
        table: dict[str, list[frozenset[int]] | None] = {}
        for item in files:
            patch = item.get("patch")
            table[str(item["filename"])] = commentable_hunks(patch) if patch else None
        return cls(table)

    def reason_not_inline(self, finding: Finding) -> str | None:
        """None when the finding's whole range is commentable, else why not."""
        if finding.path not in self.hunks:
            return "file not in the pull request's current files"
        hunks = self.hunks[finding.path]
        if hunks is None:
            return "GitHub shows no diff for this file"
        first, last = line_span(finding)
        wanted = set(range(first, last + 1))
        if any(wanted <= hunk for hunk in hunks):
            return None
        return "lines not in the pull request's current diff"


def place(
    findings: Iterable[Finding], files: PullFiles | None, already: Mapping[str, Where]
) -> list[Placed]:
    """Place every finding exactly once. `files` None: nothing can go inline (no token)."""
    placed: list[Placed] = []
    for finding in findings:
        if finding.fingerprint in already:
            placed.append(Placed(finding, already[finding.fingerprint], already_posted=True))
            continue
        reason = "GitHub was not asked" if files is None else files.reason_not_inline(finding)
        if reason is None:
            placed.append(Placed(finding, Where.INLINE))
        else:
            placed.append(Placed(finding, Where.SUMMARY, reason=reason))
    return placed
