"""Where each finding goes: inline on a commentable line of the pull request's current patches
(RIGHT: an added or context line by its new-file number; LEFT: a removed line by its old-file
number), or the summary. Decided from the host's own current diff of the change request, never
from the reviewed diff."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from reviewer.formats.common import line_span
from reviewer.formats.summary import Placed, Where
from reviewer.models import Finding, Severity

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True)
class PatchLine:
    """One line of a hunk: `kind` "+", "-" or " ", and both files' running line numbers at it
    (on an added line `old` is the old file's next line, on a removed one `new` the new file's
    next line: what GitLab's line codes are made of)."""

    kind: str
    old: int
    new: int


def patch_hunks(patch: str) -> list[list[PatchLine]]:
    """The lines of each hunk of a patch (a host's per-file unified-diff hunks), each with its
    numbers; a hunk holds only the lines its header's counts promise."""
    hunks: list[list[PatchLine]] = []
    old_no = new_no = old_left = new_left = 0
    for text in patch.split("\n"):
        m = _HUNK.match(text)
        if m:
            hunks.append([])
            old_no, old_left = int(m.group(1)), int(m.group(2) or "1")
            new_no, new_left = int(m.group(3)), int(m.group(4) or "1")
            continue
        if not hunks or text.startswith("\\"):
            continue
        kind = text[:1]
        if kind == "+" and new_left > 0:
            hunks[-1].append(PatchLine("+", old_no, new_no))
            new_no, new_left = new_no + 1, new_left - 1
        elif kind == "-" and old_left > 0:
            hunks[-1].append(PatchLine("-", old_no, new_no))
            old_no, old_left = old_no + 1, old_left - 1
        elif kind in (" ", "") and new_left > 0 and old_left > 0:
            # "" is a context line whose single space was lost on the way; count it.
            hunks[-1].append(PatchLine(" ", old_no, new_no))
            new_no, new_left = new_no + 1, new_left - 1
            old_no, old_left = old_no + 1, old_left - 1
    return hunks


def commentable_hunks(patch: str, side: str = "RIGHT") -> list[frozenset[int]]:
    """Line numbers a host accepts a comment on, one set per hunk (a multi-line comment must
    stay inside one hunk): RIGHT, the new-file numbers of added and context lines; LEFT, the
    old-file numbers of removed lines."""
    left = side == "LEFT"
    return [
        frozenset(line.old if left else line.new for line in hunk if (line.kind == "-") == left)
        for hunk in patch_hunks(patch)
    ]


@dataclass(frozen=True)
class PullFiles:
    """The change request's files as the host lists them: path -> hunks (None: no patch shown),
    RIGHT-side lines in `hunks`, LEFT-side (removed) lines in `removed`; `host` names the host
    and `request` is its word for the change request, in the reasons a finding is not
    inline."""

    hunks: Mapping[str, list[frozenset[int]] | None]
    removed: Mapping[str, list[frozenset[int]] | None] = field(default_factory=dict)
    host: str = "the host"
    request: str = "pull request"

    @classmethod
    def from_patches(
        cls,
        patches: Iterable[tuple[str, str | None]],
        host: str = "the host",
        request: str = "pull request",
    ) -> PullFiles:
        """From (path, unified-diff hunks or None) pairs, whatever the host's JSON calls them."""
        table: dict[str, list[frozenset[int]] | None] = {}
        removed: dict[str, list[frozenset[int]] | None] = {}
        for name, patch in patches:
            table[name] = commentable_hunks(patch) if patch else None
            removed[name] = commentable_hunks(patch, "LEFT") if patch else None
        return cls(table, removed, host, request)

    def reason_not_inline(self, finding: Finding) -> str | None:
        """None when the finding's whole range is commentable, else why not."""
        if finding.path not in self.hunks:
            return f"file not in the {self.request}'s current files"
        hunks = (self.removed if finding.side == "LEFT" else self.hunks).get(finding.path)
        if hunks is None:
            return f"{self.host} shows no diff for this file"
        first, last = line_span(finding)
        wanted = set(range(first, last + 1))
        if any(wanted <= hunk for hunk in hunks):
            return None
        if finding.side == "LEFT":
            return f"removed lines not in the {self.request}'s current diff"
        return f"lines not in the {self.request}'s current diff"


def place(
    findings: Iterable[Finding],
    files: PullFiles | None,
    already: Mapping[str, Where],
    min_severity: Severity | None = None,
) -> list[Placed]:
    """Place every finding exactly once. `files` None: nothing can go inline (no token); a
    finding below `min_severity` (--min-severity) goes to the summary, never lost."""
    placed: list[Placed] = []
    for finding in findings:
        if finding.fingerprint in already:
            placed.append(Placed(finding, already[finding.fingerprint], already_posted=True))
            continue
        if min_severity is not None and finding.severity.rank < min_severity.rank:
            reason: str | None = f"below --min-severity {min_severity.value}"
        elif files is None:
            reason = "not read: no token"
        else:
            reason = files.reason_not_inline(finding)
        if reason is None:
            placed.append(Placed(finding, Where.INLINE))
        else:
            placed.append(Placed(finding, Where.SUMMARY, reason=reason))
    return placed
