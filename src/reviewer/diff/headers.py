"""The per-file header of a git diff (`diff --git`, extended header lines, `---`/`+++`): paths,
modes, renames and copies, including C-quoted and non-UTF-8 names."""

from __future__ import annotations

from dataclasses import dataclass

DEV_NULL = "/dev/null"

_C_ESCAPES = {
    "a": 7,
    "b": 8,
    "t": 9,
    "n": 10,
    "v": 11,
    "f": 12,
    "r": 13,
    '"': 34,
    "\\": 92,
}


def unquote_c(text: str) -> str:
    """Undo git's C-style quoting ("a/t\\303\\251st") of a path; other text is returned as is.
    Octal escapes are bytes of the name, decoded as UTF-8 (invalid bytes become U+FFFD)."""
    if len(text) < 2 or not (text.startswith('"') and text.endswith('"')):
        return text
    out = bytearray()
    body, i = text[1:-1], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 >= len(body):
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
        elif body[i + 1] in _C_ESCAPES:
            out.append(_C_ESCAPES[body[i + 1]])
            i += 2
        elif body[i + 1 : i + 4].isdigit():
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out += body[i + 1].encode("utf-8", "surrogateescape")
            i += 2
    return out.decode("utf-8", "replace")


def header_path(value: str) -> str:
    """The path on a `---`/`+++` line, without git's trailing tab and without the a/ b/ prefix."""
    value = value.rstrip("\n")
    if value.startswith('"'):
        value = value[: _closing_quote(value) + 1]  # git may add a tab after the name
    else:
        value = value.split("\t", 1)[0]  # a name with a real tab is always quoted
    path = unquote_c(value)
    return strip_prefix(path)


def strip_prefix(path: str) -> str:
    if path != DEV_NULL and path[:2] in ("a/", "b/"):
        return path[2:]
    return path


def _closing_quote(text: str) -> int:
    """Index of the quote that closes the C-quoted string at the start of `text`."""
    i = 1
    while i < len(text) and text[i] != '"':
        i += 2 if text[i] == "\\" else 1
    return i


def _split_git_line(rest: str) -> tuple[str, str] | None:
    """`a/X b/Y` from a `diff --git` line. Ambiguous when names contain " b/"; git itself only
    relies on it when both names are the same, which is also the case we need it for."""
    if rest.startswith('"'):
        i = _closing_quote(rest)
        if rest[i + 1 : i + 2] != " ":
            return None
        return unquote_c(rest[: i + 1]), unquote_c(rest[i + 2 :])
    if rest.endswith('"'):
        start = rest.find(' "')
        return (rest[:start], unquote_c(rest[start + 1 :])) if start != -1 else None
    n = (len(rest) - 1) // 2
    if len(rest) % 2 == 1 and rest[n] == " " and rest[2:n] == rest[n + 3 :]:
        return rest[:n], rest[n + 1 :]
    idx = rest.find(" b/")
    return (rest[:idx], rest[idx + 1 :]) if idx != -1 else None


@dataclass
class FileHeader:
    """What a git file header says, filled in line by line."""

    old_path: str | None = None
    new_path: str | None = None
    old_mode: str | None = None
    new_mode: str | None = None
    new_file: bool = False
    deleted: bool = False
    renamed: bool = False
    copied: bool = False
    binary: bool = False

    def feed_git_line(self, line: str) -> None:
        pair = _split_git_line(line[len("diff --git ") :].rstrip("\n"))
        if pair is not None:
            self.old_path, self.new_path = strip_prefix(pair[0]), strip_prefix(pair[1])

    def feed(self, line: str) -> None:
        """Apply one extended header line (anything that is not a hunk)."""
        text = line.rstrip("\n")
        key, _, value = text.partition(" ")
        if text.startswith("old mode "):
            self.old_mode = text[9:]
        elif text.startswith("new mode "):
            self.new_mode = text[9:]
        elif text.startswith("new file mode "):
            self.new_file, self.new_mode = True, text[14:]
        elif text.startswith("deleted file mode "):
            self.deleted, self.old_mode = True, text[18:]
        elif text.startswith(("rename from ", "copy from ")):
            self.old_path = unquote_c(text.split(" ", 2)[2])
            self.renamed, self.copied = key == "rename", key == "copy"
        elif text.startswith(("rename to ", "copy to ")):
            self.new_path = unquote_c(text.split(" ", 2)[2])
        elif key == "index":
            self._feed_index(value)
        elif key == "---":
            self._feed_side(value, old=True)
        elif key == "+++":
            self._feed_side(value, old=False)
        elif text.startswith(("Binary files ", "GIT binary patch")):
            self.binary = True

    def _feed_index(self, value: str) -> None:
        parts = value.split(" ")
        if len(parts) == 2:  # `index abc..def 100644`: the mode did not change
            self.old_mode = self.old_mode or parts[1]
            self.new_mode = self.new_mode or parts[1]

    def _feed_side(self, value: str, *, old: bool) -> None:
        path = header_path(value)
        if path == DEV_NULL:
            if old:
                self.new_file = True
            else:
                self.deleted = True
        elif old:
            self.old_path = path
        else:
            self.new_path = path
