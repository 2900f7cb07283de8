"""The summary Markdown the `markdown` format prints and the poster posts as its one summary
comment (with a hidden marker so a re-run finds it), and the pieces a finding is shown with in
full. The bodies only the poster writes are in post/bodies.py."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from reviewer.formats.common import (
    bounded,
    left_out,
    line_span,
    location,
    plural,
    removed_lines,
    severity_counts,
    sorted_findings,
    status_sentence,
)
from reviewer.formats.sanitize import (
    BODY_LIMIT,
    code_span,
    fenced,
    has_hidden,
    one_line,
    redact_credentials,
    sanitize_markdown,
    show_hidden,
    truncate,
    truncate_markdown,
)
from reviewer.models import AppliedRule, Finding, FindingsDocument


class Where(StrEnum):
    """Where a finding is shown on the pull request (the summary's "Posted" column)."""

    INLINE = "inline"  # an inline review comment
    REVIEW = "review"  # in full in a review body (after GitHub refused the inline comments)
    SUMMARY = "summary"  # in full in the summary comment


@dataclass(frozen=True)
class Placed:
    finding: Finding
    where: Where
    already_posted: bool = False
    reason: str = ""  # why it is not inline


SUMMARY_MARKER = "<!-- reviewer:summary -->"
MESSAGE_LIMIT = 8_000  # per finding; keeps one huge message from crowding out the others
SUGGESTION_LIMIT = 10_000  # a cut suggestion would be wrong code: longer ones are not offered
SKIPPED_LISTED = 30  # files named per list in the summary; the rest are counted
# A rendered message over this is rendered again from a shorter cut: hidden characters shown
# as escapes can make the Markdown up to 11 times the text, and a body must fit in 65,000.
MESSAGE_MARKDOWN_LIMIT = 40_000
PATH_LIMIT = 300  # a location shown in a heading or table cell; the document keeps the path
RULES_LISTED = 30  # rules named in the summary; the rest are counted
RULE_PATHS_LISTED = 5  # path patterns named per rule


def bounded_span(text: str, *, table: bool = False) -> str:
    """A code span of at most PATH_LIMIT characters of `text` (a forged document's field can
    be megabytes): the end is kept, it names the file and the line."""
    if len(text) > PATH_LIMIT:
        text = "…" + text[-(PATH_LIMIT - 1) :]
    return code_span(text, table=table)


def location_span(finding: Finding, *, table: bool = False) -> str:
    return bounded_span(location(finding), table=table)


def heading(finding: Finding) -> str:
    return (
        f"**{finding.severity.value}** · {finding.category.value} · "
        f"{location_span(finding)} · **{one_line(finding.title)}**"
    )


def message_markdown(finding: Finding) -> str:
    rendered = sanitize_markdown(truncate(finding.message, MESSAGE_LIMIT, "message"))
    if len(rendered) > MESSAGE_MARKDOWN_LIMIT:
        rendered = sanitize_markdown(truncate(finding.message, MESSAGE_LIMIT // 3, "message"))
    return rendered


_LEFT_OUT = "*A suggested change was left out: {}.*"


def suggestion_block(finding: Finding, *, fence: str | None) -> str:
    """A block the host applies to the finding's lines (inline, `fence` the host's info string:
    GitHub's `suggestion`, GitLab's `suggestion:-N+0`) or, with fence None (the summary, or a
    host that cannot apply suggestions), a plain code block. Code with hidden characters is
    shown with them escaped and never offered to apply; code that no fence can hold (a run of
    255 backticks) is left out with a note."""
    if finding.suggestion is None:
        return ""
    code = show_hidden(redact_credentials(finding.suggestion)).rstrip("\n")
    if len(code) > SUGGESTION_LIMIT:
        return _LEFT_OUT.format("it is too long to show")
    hidden = has_hidden(finding.suggestion)
    # Hosts apply a suggestion to head lines only: a LEFT finding's is shown as code.
    offer = fence is not None and finding.side == "RIGHT" and not hidden
    block = fenced(code, fence if fence is not None and offer else "")
    if block is None:
        return _LEFT_OUT.format("it holds a run of backticks no code block can contain")
    if offer:
        return block
    first, last = line_span(finding)
    lines = f"line {first}" if first == last else f"lines {first}-{last}"
    if finding.side == "LEFT":
        lines = removed_lines(finding)
    note = (
        " (not offered to apply: it contains invisible or reordering characters, shown here "
        "as escapes)"
        if hidden
        else ""
    )
    return f"Suggested replacement for {lines}{note}:\n\n{block}"


def detail(finding: Finding, reason: str = "") -> str:
    """A finding in full, for a review body or the summary."""
    why = f"\n\n*Not commented inline: {one_line(reason, 500)}.*" if reason else ""
    parts = [heading(finding) + why, message_markdown(finding)]
    parts.append(suggestion_block(finding, fence=None))
    return "\n\n".join(p for p in parts if p)


def pack(
    header: str,
    blocks: Iterable[str],
    footer: str,
    limit: int = BODY_LIMIT,
    total: int | None = None,
) -> tuple[str, int]:
    """header + as many blocks as fit + footer; returns the body and how many blocks fit.
    `blocks` may be lazy (then `total` says how many): those after the first that does not
    fit are never rendered, so a huge document costs what fits."""
    if total is None:
        blocks = list(blocks)
        total = len(blocks)
    size = len(header) + len(footer) + 400  # room for the overflow note
    kept: list[str] = []
    for block in blocks:
        if size + len(block) + 2 > limit:
            break
        kept.append(block)
        size += len(block) + 2
    note = ""
    if len(kept) < total:
        left = total - len(kept)
        note = (
            f"\n\n*{plural(left, 'more finding')} did not fit in GitHub's comment size limit; "
            "they are in the findings document (the job's artifact) and the job log.*"
        )
    body = "\n\n".join([header, *kept]) + note + footer
    return truncate_markdown(body, limit, "comment"), len(kept)


def _counts_table(document: FindingsDocument) -> str:
    counts = severity_counts(document.findings)
    head = "| " + " | ".join(s.value for s in counts) + " |"
    rule = "|" + "---|" * len(counts)
    row = "| " + " | ".join(str(n) for n in counts.values()) + " |"
    return "\n".join((head, rule, row))


_WHERE_TEXT = {
    Where.INLINE: "inline comment",
    Where.REVIEW: "in the review",
    Where.SUMMARY: "below",
}


def _findings_table(placed: Sequence[Placed], show_where: bool) -> str:
    head = "| # | Severity | Location | Title |" + (" Posted |" if show_where else "")
    rule = "|---|---|---|---|" + ("---|" if show_where else "")
    rows = [head, rule]
    for number, p in enumerate(placed, 1):
        f = p.finding
        title = one_line(f.title, table=True)
        row = f"| {number} | {f.severity.value} | {location_span(f, table=True)} | {title} |"
        rows.append(row + (f" {_WHERE_TEXT[p.where]} |" if show_where else ""))
    return "\n".join(rows)


def _skipped(document: FindingsDocument) -> str:
    """What the model did not see: the unreviewed files first (they keep the review from
    being complete), then those left out by policy; each list cut with a count."""
    unreviewed, policy = left_out(document)
    sections = []
    if unreviewed:
        items = [f"- {bounded_span(g.path)}: {one_line(g.describe(), 120)}" for g in unreviewed]
        sections.append(
            f"#### Not reviewed ({len(items)})\n\n"
            "The model did not see these changed lines, and no rule of the base branch left "
            "them out:\n\n" + "\n".join(bounded(items, SKIPPED_LISTED))
        )
    if policy:
        items = [f"- {bounded_span(g.path)}: {one_line(g.reason, 80)}" for g in policy]
        sections.append(
            f"#### Skipped files ({len(items)})\n\n" + "\n".join(bounded(items, SKIPPED_LISTED))
        )
    return "\n\n".join(sections)


def _rules(document: FindingsDocument) -> str:
    """Which of the repository's review rules went to the model, where each was read and
    which files it is scoped to: each name a bounded code span (the document may be forged)."""
    if not document.rules:
        return ""
    items = [f"- {bounded_span(r.source)}: {_rule_scope(r)}" for r in document.rules]
    return (
        f"#### Rules applied ({len(items)})\n\n"
        "The repository's own review rules the model was given:\n\n"
        + "\n".join(bounded(items, RULES_LISTED))
    )


def _rule_scope(rule: AppliedRule) -> str:
    chunks = plural(rule.chunks, "chunk")
    if not rule.paths:
        return f"every chunk ({chunks})"
    paths = ", ".join(bounded_span(p) for p in rule.paths[:RULE_PATHS_LISTED])
    more = len(rule.paths) - RULE_PATHS_LISTED
    return f"files matching {paths}{f' and {more} more' if more > 0 else ''} ({chunks})"


def _accepted_note(count: int) -> str:
    return (
        f"{plural(count, 'finding')} accepted in the repository's baseline "
        f"{'is' if count == 1 else 'are'} not shown."
    )


def _header(document: FindingsDocument, reviewed: str) -> list[str]:
    model = document.model
    meta = f"**Model:** {bounded_span(model.backend + ' ' + model.name)}"
    if reviewed:
        meta += f" · **Reviewed:** {code_span(reviewed)}"
    total = len(document.findings)
    return [
        SUMMARY_MARKER,
        f"### reviewer: {total} finding{'s' if total != 1 else ''}",
        f"**Status:** {one_line(status_sentence(document), 2_000)}",
        meta,
        _counts_table(document),
    ]


def summary_body(
    document: FindingsDocument,
    placed: Sequence[Placed] | None = None,
    *,
    updated_at: str | None = None,
    head_note: str = "",
) -> str:
    """The summary: status, counts, every finding in a table, in full those not inline.
    Without `placed` (the `markdown` format) every finding is shown in full."""
    show_where = placed is not None
    if placed is None:
        placed = [Placed(f, Where.SUMMARY) for f in sorted_findings(document.findings)]
    reviewed = (document.head or "")[:12]
    parts = _header(document, reviewed)
    if head_note:
        parts.append(f"*{one_line(head_note, 500)}*")
    if document.accepted:
        parts.append(f"*{_accepted_note(len(document.accepted))}*")
    if placed:
        parts.append("#### Findings\n\n" + _findings_table(placed, show_where))
    skipped = "\n\n".join(s for s in (_rules(document), _skipped(document)) if s)
    footer = "\n\n<sub>reviewer " + one_line(document.tool.version, 100)
    footer += f" · updated {updated_at}</sub>" if updated_at else "</sub>"
    in_full = [p for p in placed if p.where is Where.SUMMARY]
    details = (detail(p.finding, p.reason) for p in in_full)
    if in_full:
        title = "#### Not commented inline" if show_where else "#### Details"
        parts.append(title)
    header = "\n\n".join(parts)
    tail = ("\n\n" + skipped if skipped else "") + footer
    body, _ = pack(header, details, tail, total=len(in_full))
    return body
