"""Untrusted text (model output, any field of a findings document) made into Markdown that
cannot take over a comment, a job summary or a report.

The design is small enough to check by reading it:
- prose: every ASCII punctuation character is backslash-escaped, so cmark-gfm reads each one
  literally and no HTML, link, image, emphasis, heading, list, table cell, quote or fence can
  form; `@`, `#`, `://`, `www.` and `GH-1` get a zero-width space, because GitHub turns the
  rendered text (not the Markdown) into mentions, references and links;
- code: only in spans and fences made of more backticks than any run inside, and no longer
  than cmark-gfm can count (255 for a fence, 80 for a span); what cannot be fenced is shown as
  prose, and a suggestion is left out;
- the characters of security's one table are shown as escapes, in prose and in code;
- every scan is one pass over the text: linear in its length, whatever the text.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections import defaultdict, deque
from collections.abc import Iterator

from reviewer.security import ZWSP, escape_hidden, hidden_pattern

# GitHub rejects bodies over 65,536 characters; stay a little below so notes always fit.
BODY_LIMIT = 65_000
MAX_FENCE = 255  # cmark-gfm keeps a fence's length in a byte
MAX_SPAN = 80  # and remembers backtick runs up to 80 long for code spans
REDACTED = "[REDACTED]"

_CREDENTIALS = (
    re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY"
        r"( BLOCK)?-----|\Z)",
        re.DOTALL,
    ),
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"),
    re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"),
)
# A literal each pattern needs: a pattern runs only on text that has it (a scan in C is many
# times cheaper than the pattern's own).
_NEEDS = (("-----BEGIN ",), ("gh",), ("github_pat_",), ("AKIA", "ASIA"), ("xox",), ("sk-",))
# `password = hunter2`: keep the key (it explains the finding), redact the value.
_ASSIGNMENT = re.compile(
    r"(?i)\b((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|token)"
    r"[\"']?\s*[:=]\s*)([\"']?)([^\s\"'`,;]{4,})"
)
_ASSIGNMENT_NEEDS = ("pass", "pwd", "secret", "key", "token")
# Every ASCII punctuation character backslash-escaped, and a zero-width space after `@` and
# `#` (mentions, team pings, owner/repo@sha, e-mail addresses, #12, owner/repo#12): one
# str.translate, a single pass in C.
_ESCAPED = str.maketrans(
    {c: "\\" + c + (ZWSP if c in "@#" else "") for c in string.punctuation}
)
# The rest of what GitHub links in rendered text: bare URLs, www. addresses, GH-12.
_LINKABLE = re.compile(r":(?=//)|(?i:www)(?=\.)|(?i:gh-)(?=[0-9])")
_TICKS = re.compile(r"`+")
_FENCE_OPEN = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_LANGUAGE = re.compile(r"[A-Za-z0-9_+-]{1,32}")
_MARKER_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_HIDDEN_IN_LINES = hidden_pattern("\t\n")


def redact_credentials(text: str) -> str:
    """Replace anything that looks like a secret; applied to code too (suggestions)."""
    for pattern, needs in zip(_CREDENTIALS, _NEEDS, strict=True):
        if any(literal in text for literal in needs):
            text = pattern.sub(REDACTED, text)
    lower = text.lower()
    if not any(literal in lower for literal in _ASSIGNMENT_NEEDS):
        return text
    return _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def show_hidden(text: str) -> str:
    """Line ends made LF, then every character of the table but tab and newline shown as an
    escape (`\\u200b`, `\\U000e0041`): hidden text is shown, never dropped or passed on."""
    return escape_hidden(text.replace("\r\n", "\n"), keep="\t\n")


def has_hidden(text: str) -> bool:
    return _HIDDEN_IN_LINES.search(text.replace("\r\n", "\n")) is not None


def safe_marker_value(value: str) -> str:
    """A value that cannot end an HTML comment; stable, so re-runs find the same marker."""
    if _MARKER_SAFE.fullmatch(value):
        return value
    return "sha256-" + hashlib.sha256(value.encode()).hexdigest()[:32]


# --- inline: prose and code spans ------------------------------------------------------------


def prose(text: str) -> str:
    """Text shown literally: no Markdown, no HTML, nothing GitHub links. `text` holds no
    hidden character (callers show them first)."""
    lower = text.lower()
    if "://" in text or "www" in lower or "gh-" in lower:
        text = _LINKABLE.sub(lambda m: m.group() + ZWSP, text)
    return text.translate(_ESCAPED)


def longest_tick_run(text: str) -> int:
    return max((len(m.group()) for m in _TICKS.finditer(text)), default=0)


def backtick_fence(code: str, minimum: int = 3, maximum: int = MAX_FENCE) -> str | None:
    """A fence longer than any backtick run inside `code`, or None when it would be longer
    than cmark-gfm can count (a longer run inside would close a fence; a span would not
    open)."""
    length = max(minimum, longest_tick_run(code) + 1)
    return "`" * length if length <= maximum else None


def code_span(text: str, *, table: bool = False) -> str:
    """`text` as one inline code span (one line), or as prose when no span can hold it. In a
    table cell every `|` is escaped: the table extension unescapes `\\|` inside code too."""
    flat = " ".join(escape_hidden(redact_credentials(text), keep="\t\n\r").split())
    return _span(flat, table)


def _span(flat: str, table: bool) -> str:
    fence = backtick_fence(flat, minimum=1, maximum=MAX_SPAN)
    if fence is None or not flat:
        return _cell(prose(flat), table)
    # cmark strips one space from each end when both are there, and a backtick at an end
    # would join the fence: pad so the content is exactly `flat`.
    pad = " " if flat[0] in "` " or flat[-1] in "` " else ""
    return f"{fence}{pad}{_cell(flat, table)}{pad}{fence}"


def _cell(text: str, table: bool) -> str:
    return text.replace("|", "\\|") if table else text


def _spans(line: str) -> Iterator[tuple[bool, str]]:
    """(is_code, text) parts of one line, code spans matched as CommonMark does (a run of n
    backticks closes at the next run of exactly n). Linear: one pointer per run length."""
    runs = [(m.start(), m.end()) for m in _TICKS.finditer(line)]
    by_length: defaultdict[int, deque[int]] = defaultdict(deque)
    for index, (start, end) in enumerate(runs):
        by_length[end - start].append(index)
    pos = index = 0
    while index < len(runs):
        start, end = runs[index]
        later = by_length[end - start]
        while later and later[0] <= index:
            later.popleft()
        if not later:
            index += 1
            continue
        close = later.popleft()
        yield False, line[pos:start]
        yield True, line[end : runs[close][0]]
        pos, index = runs[close][1], close + 1
    yield False, line[pos:]


def inline(line: str, *, table: bool = False) -> str:
    """One line of untrusted Markdown: its code spans stay code, everything else is prose."""
    if "`" not in line:
        return _cell(prose(line), table)
    out: list[str] = []
    for is_code, part in _spans(line):
        if not is_code:
            out.append(_cell(prose(part), table))
        elif part.strip(" "):
            out.append(_span(part, table))
    return "".join(out)


def plain_line(text: str, limit: int = 200) -> str:
    """A field GitHub shows as plain text (a check run's title): one line, hidden characters
    shown, credentials redacted, bounded; no Markdown escaping, which would show."""
    flat = " ".join(show_hidden(redact_credentials(text)).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def one_line(text: str, limit: int = 200, *, table: bool = False) -> str:
    """A title, a reason, a table cell: one line, hidden characters shown, bounded."""
    flat = " ".join(show_hidden(redact_credentials(text)).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return inline(flat, table=table)


# --- blocks: paragraphs and fenced code ------------------------------------------------------


def _blocks(lines: list[str]) -> Iterator[tuple[str | None, list[str]]]:
    """(None, [line]) for a prose line, (info, code lines) for a fenced block (CommonMark's
    rule: it closes at a line of at least as many of the same character, or at the end)."""
    index = 0
    while index < len(lines):
        opening = _FENCE_OPEN.fullmatch(lines[index])
        if opening is None or (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            yield None, [lines[index]]
            index += 1
            continue
        fence = opening.group(1)
        end = index + 1
        while end < len(lines):
            closing = _FENCE_CLOSE.fullmatch(lines[end])
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                break
            end += 1
        words = opening.group(2).split()
        info = words[0] if words and _LANGUAGE.fullmatch(words[0]) else ""
        yield info, lines[index + 1 : end]
        index = end + 1


def fenced(code: str, info: str = "") -> str | None:
    """A fenced code block showing exactly `code`, or None when none can be made."""
    fence = backtick_fence(code)
    return None if fence is None else f"{fence}{info}\n{code}\n{fence}"


def sanitize_markdown(text: str) -> str:
    """Model-written Markdown made safe to post: its fenced blocks and code spans stay code
    (credentials redacted, hidden characters shown), everything else is literal prose."""
    text = show_hidden(redact_credentials(text))
    out: list[str] = []
    for info, lines in _blocks(text.split("\n")):
        block = None if info is None else fenced("\n".join(lines), info)
        if block is not None:
            out.append(block)
            continue
        for line in lines:
            rendered = inline(line.strip())
            if rendered or (out and out[-1]):
                out.append(rendered)
    return "\n".join(out).strip("\n")


# --- bounds ----------------------------------------------------------------------------------


def truncate(text: str, limit: int, what: str = "text") -> str:
    """Raw text cut to at most `limit` characters with a visible note; never fails."""
    if len(text) <= limit:
        return text
    note = f"\n\n*… {what} truncated by reviewer ({len(text):,} characters; limit {limit:,}).*"
    cut = text[: max(0, limit - len(note))]
    # Cut at a line end where possible so the note starts on its own line.
    newline = cut.rfind("\n")
    if newline > len(cut) // 2:
        cut = cut[:newline]
    return cut + note


def truncate_markdown(markdown: str, limit: int, what: str = "comment") -> str:
    """Rendered Markdown cut to at most `limit` characters at a line end, never inside a line
    (a cut code span would turn its code into live Markdown). A fence left open holds the
    rest as code, which is safe."""
    if len(markdown) <= limit:
        return markdown
    note = f"\n\n*… {what} truncated by reviewer ({len(markdown):,} characters).*"
    cut = markdown[: max(0, limit - len(note))]
    newline = cut.rfind("\n")
    return (cut[:newline] if newline >= 0 else "") + note
