"""Neutralise untrusted model text before it reaches GitHub or a job log: no pings, no raw
HTML, no script links, no credentials, no unclosed code fences, bounded length."""

from __future__ import annotations

import hashlib
import html
import re

# GitHub rejects bodies over 65,536 characters; stay a little below so notes always fit.
BODY_LIMIT = 65_000
ZWSP = "\u200b"
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
# `password = hunter2`: keep the key (it explains the finding), redact the value.
_ASSIGNMENT = re.compile(
    r"(?i)\b((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|auth[_-]?token|token)"
    r"[\"']?\s*[:=]\s*)([\"']?)([^\s\"'`,;]{4,})"
)
# An @ that GitHub would turn into a ping: not part of an e-mail address or a word.
_MENTION = re.compile(r"(?<![\w@./`-])@(?=[A-Za-z0-9])")
# One level of nested parentheses, as in `javascript:alert(1)`.
_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(((?:[^()\n]|\([^()\n]*\))*)\)")
_REF_LINK = re.compile(r"(?im)^( {0,3}\[[^\]\n]+\]:)\s*(\S+)")
_BAD_SCHEMES = ("javascript:", "data:", "vbscript:", "file:")
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)
_MARKER_SAFE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def redact_credentials(text: str) -> str:
    """Replace anything that looks like a secret; applied to code too (suggestions)."""
    for pattern in _CREDENTIALS:
        text = pattern.sub(REDACTED, text)
    return _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def strip_controls(text: str) -> str:
    """Drop control characters (C0 but tab and newline, DEL, C1) and bidirectional controls;
    Unicode line and paragraph separators become newlines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text.replace("\u2028", "\n").replace("\u2029", "\n"))


def safe_marker_value(value: str) -> str:
    """A value that cannot end an HTML comment; stable, so re-runs find the same marker."""
    if _MARKER_SAFE.fullmatch(value):
        return value
    return "sha256-" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _is_bad_url(url: str) -> bool:
    # Browsers ignore whitespace and control characters inside a scheme.
    compact = re.sub(r"[\s\x00-\x1f<>]", "", url).lower()
    return compact.startswith(_BAD_SCHEMES)


def _drop_bad_links(text: str) -> str:
    def link(m: re.Match[str]) -> str:
        return f"{m.group(2)} (link removed)" if _is_bad_url(m.group(3)) else m.group(0)

    def ref(m: re.Match[str]) -> str:
        return f"{m.group(1)} #link-removed" if _is_bad_url(m.group(2)) else m.group(0)

    return _REF_LINK.sub(ref, _LINK.sub(link, text))


def _prose(text: str) -> str:
    """Text outside code: links first (they need the raw brackets), then HTML, then pings."""
    text = _drop_bad_links(text)
    text = html.escape(text, quote=False)
    return _MENTION.sub("@" + ZWSP, text)


def _split_inline_code(text: str) -> list[tuple[bool, str]]:
    """Split a paragraph into (is_code, text) parts on matching backtick runs."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for m in re.finditer(r"`+", text):
        if m.start() < pos:
            continue
        run = m.group(0)
        close = re.compile(r"(?<!`)" + run + r"(?!`)").search(text, m.end())
        if close is None:
            continue
        parts.append((False, text[pos : m.start()]))
        parts.append((True, text[m.start() : close.end()]))
        pos = close.end()
    parts.append((False, text[pos:]))
    return parts


def _sanitize_outside_fences(text: str) -> str:
    return "".join(part if code else _prose(part) for code, part in _split_inline_code(text))


def sanitize_markdown(text: str) -> str:
    """Model-written Markdown made safe to post. Code (fenced or inline) keeps its text but
    loses credentials; every fence opened is closed, so it cannot swallow what follows."""
    text = redact_credentials(strip_controls(text))
    out: list[str] = []
    pos = 0
    while True:
        m = _FENCE.search(text, pos)
        if m is None:
            out.append(_sanitize_outside_fences(text[pos:]))
            break
        out.append(_sanitize_outside_fences(text[pos : m.start()]))
        fence = m.group(1)
        closer = re.compile(
            r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$", re.MULTILINE
        )
        line_end = text.find("\n", m.end())
        body_start = len(text) if line_end == -1 else line_end + 1
        close = closer.search(text, body_start)
        if close is None:
            block = text[m.start() :].rstrip("\n")
            out.append(block + "\n" + fence)
            break
        out.append(text[m.start() : close.end()])
        pos = close.end()
    return "".join(out)


def one_line(text: str, limit: int = 200) -> str:
    """A title or table cell: one line, sanitized, pipes escaped, bounded."""
    flat = " ".join(strip_controls(text).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return sanitize_markdown(flat).replace("|", "\\|")


def truncate(text: str, limit: int, what: str = "text") -> str:
    """Cut to at most `limit` characters with a visible note; never fails."""
    if len(text) <= limit:
        return text
    note = f"\n\n*… {what} truncated by reviewer ({len(text):,} characters; limit {limit:,}).*"
    cut = text[: max(0, limit - len(note))]
    # Cut at a line end where possible so the note starts on its own line.
    newline = cut.rfind("\n")
    if newline > len(cut) // 2:
        cut = cut[:newline]
    return cut + note


def backtick_fence(code: str, minimum: int = 3) -> str:
    """A fence longer than any backtick run inside `code`."""
    longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
    return "`" * max(minimum, longest + 1)
