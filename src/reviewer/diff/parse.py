"""Unified diff text -> frozen FileDiff models. git's per-file headers are read here (paths,
modes, renames, copies, binary, submodules); hunk bodies in git's plain shape are parsed by
diff/hunks.py, anything else (and plain `diff -u` output) by unidiff."""

from __future__ import annotations

from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk as UnidiffHunk
from unidiff.patch import PatchSet

from reviewer.diff.headers import DEV_NULL, FileHeader, header_path
from reviewer.diff.hunks import fast_hunks, strip_ending
from reviewer.diff.interface import RawDiff
from reviewer.errors import DiffError
from reviewer.models import DiffLine, FileDiff, FileStatus, Hunk, LineKind

SUBMODULE_MODE = "160000"
_KINDS = {"+": LineKind.ADDED, "-": LineKind.REMOVED, " ": LineKind.CONTEXT}
# Stands in for the real names when unidiff parses a file's hunks: the names come from
# FileHeader, which handles quoting and spaces that unidiff's header regexes do not.
_PLACEHOLDER = ("--- a/f\n", "+++ b/f\n")


def decode_diff(data: bytes) -> str:
    """Bytes from git or a patch file -> text. Invalid UTF-8 becomes U+FFFD; a newline byte is
    never part of a multi-byte sequence, so line counts cannot change."""
    return data.decode("utf-8", "replace")


def split_lines(text: str) -> list[str]:
    """Lines with their "\\n" kept. Splits at "\\n" only: \\r, \\f, \\x1c or U+2028 inside a line
    are content (str.splitlines would break them and shift every line number after them)."""
    lines = text.split("\n")
    last = lines.pop()
    for i, part in enumerate(lines):  # in place: a second list would double the peak memory
        lines[i] = part + "\n"
    if last:
        lines.append(last)
    return lines


def parse_raw(raw: RawDiff, max_file_lines: int | None = None) -> tuple[FileDiff, ...]:
    """Every changed file of a source's diff: those of its text, and the binary files the
    source kept out of the text (diff/binary.py)."""
    return (*parse_diff(raw.text, max_file_lines), *raw.binary_files)


def parse_diff(text: str, max_file_lines: int | None = None) -> tuple[FileDiff, ...]:
    """Parse a whole unified diff (`git diff`, GitHub's `.diff`, or plain `diff -u`).

    A git file section with more than `max_file_lines` changed lines keeps its counts but not
    its hunks (the filters skip it as too_large): its lines are never turned into objects, so
    a huge file costs memory in proportion to its text, not 50 times that."""
    sections = _git_sections(text)
    try:
        if sections:
            files = tuple(
                _parse_git_file(split_lines(section), max_file_lines) for section in sections
            )
        else:
            files = _parse_plain(split_lines(text))
    except UnidiffParseError as e:
        reason = str(e).strip()  # unidiff quotes the line with its newline
        raise DiffError(f"the diff is not a valid unified diff: {reason}", hint=_HINT) from e
    if not files and text.strip():
        # Text that holds no diff at all is a mistake (a wrong file), not an empty review.
        raise DiffError("the input holds no unified diff", hint=_HINT)
    return files


_HINT = "pass the output of `git diff` or a pull request's .diff"


_GIT_LINE = "diff --git "


def _git_sections(text: str) -> list[str]:
    """The text of each `diff --git` section, from its `diff --git` line to the next one's
    (none: not a git diff); text before the first is preamble. Split on the text, not line by
    line: a hunk line starts with " ", "+", "-" or "\\", so the marker at a line start cannot
    be inside a hunk."""
    sections = f"\n{text}".split(f"\n{_GIT_LINE}")
    del sections[0]  # the preamble
    for i, piece in enumerate(sections):  # in place, like split_lines
        # The split took each section's last newline, except the text's own end.
        ending = "\n" if i < len(sections) - 1 else ""
        sections[i] = f"{_GIT_LINE}{piece}{ending}"
    return sections


def _parse_git_file(section: list[str], max_file_lines: int | None) -> FileDiff:
    header = FileHeader()
    header.feed_git_line(section[0])
    body_at = len(section)
    for i in range(1, len(section)):
        if section[i].startswith("@@ "):
            body_at = i
            break
        header.feed(section[i])
    body = section[body_at:]
    if max_file_lines is not None and len(body) > max_file_lines:
        counts = _count_body(body)
        if sum(counts) > max_file_lines:
            return _file_diff(header, (), counts)
    return _file_diff(header, _parse_hunks(body) if body else ())


def _count_body(body: list[str]) -> tuple[int, int]:
    """(added, removed) read from the line markers alone: after the first hunk header a git
    section holds only hunk headers, hunk lines and "\\ No newline" markers."""
    added = sum(1 for line in body if line.startswith("+"))
    removed = sum(1 for line in body if line.startswith("-"))
    return added, removed


def _status(header: FileHeader) -> FileStatus:
    if header.new_file:
        return FileStatus.ADDED
    if header.deleted:
        return FileStatus.DELETED
    if header.renamed:
        return FileStatus.RENAMED
    if header.copied:
        return FileStatus.COPIED
    return FileStatus.MODIFIED


def _file_diff(
    header: FileHeader, hunks: tuple[Hunk, ...], counts: tuple[int, int] | None = None
) -> FileDiff:
    status = _status(header)
    new_path = header.new_path or header.old_path or ""
    old_path = header.old_path or new_path
    added, removed = _count(hunks) if counts is None else counts
    return FileDiff.model_construct(
        path=old_path if status is FileStatus.DELETED else new_path,
        old_path=None if status is FileStatus.ADDED else old_path,
        status=status,
        is_binary=header.binary,
        is_submodule=SUBMODULE_MODE in (header.old_mode, header.new_mode),
        old_mode=header.old_mode,
        new_mode=header.new_mode,
        hunks=hunks,
        added=added,
        removed=removed,
    )


def _count(hunks: tuple[Hunk, ...]) -> tuple[int, int]:
    """(added, removed) from the hunks' counts, which match their lines (see _convert_hunk):
    a hunk's lines are its old side's plus its added lines, or its new side's plus its removed
    lines."""
    added = sum(len(h.lines) - h.old_len for h in hunks)
    removed = sum(len(h.lines) - h.new_len for h in hunks)
    return added, removed


def _parse_hunks(body: list[str]) -> tuple[Hunk, ...]:
    fast = fast_hunks(body)
    if fast is not None:
        return fast
    # Not the plain shape `git diff` writes: unidiff keeps its messages and its leniency.
    lines = [*_PLACEHOLDER, *body]
    patch = PatchSet(lines)
    if not patch:
        return ()
    _check_hunk_ends(lines, patch[0])
    return tuple(_convert_hunk(hunk) for hunk in patch[0])


def _check_hunk_ends(lines: list[str], hunks: list[UnidiffHunk]) -> None:
    """unidiff stops reading a file's last hunk when the header's counts are met and ignores
    what follows: diff lines right after it (a header that counts fewer lines than the hunk
    has) would be dropped silently, and an added line hidden that way is never reviewed."""
    if not hunks:
        return
    numbers = [ln.diff_line_no for ln in hunks[-1] if ln.diff_line_no is not None]
    start = max(numbers, default=0)  # 1-based number of the last line read = next index
    for i in range(start, len(lines)):
        line = lines[i]
        if line.startswith("\\"):
            continue  # "\ No newline at end of file"
        if _ends_hunk_run(lines, i):
            return
        raise DiffError(
            "the diff is not a valid unified diff: a hunk has more lines than its header "
            f"counts (at {line.rstrip(chr(10))[:60]!r})",
            hint=_HINT,
        )


def _ends_hunk_run(lines: list[str], i: int) -> bool:
    """Whether line i is not a diff line: the next file's header, a format-patch signature
    ("-- "), a blank separator line or any other text."""
    line = lines[i]
    if line[:1] not in ("+", "-", " "):
        return True
    if line.rstrip("\r\n") == "-- ":
        return True
    return line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ ")


def _convert_hunk(hunk: UnidiffHunk) -> Hunk:
    # Plain construction: pydantic-core validates these four fields faster than
    # model_construct builds them in Python (measured: about 2x on 200,000 lines).
    lines = tuple(
        DiffLine(
            kind=_KINDS[line.line_type],
            old_no=line.source_line_no,
            new_no=line.target_line_no,
            text=strip_ending(line.value),
        )
        for line in hunk
        if line.line_type in _KINDS  # skips "\ No newline at end of file" markers
    )
    # The lengths are counted from the lines kept, not read from the header: unidiff tolerates
    # a header whose counts its lines do not match, and the rest of the pipeline relies on
    # every Hunk's counts matching its lines (the fast parser accepts nothing else).
    return Hunk.model_construct(
        old_start=hunk.source_start,
        old_len=sum(1 for ln in lines if ln.kind is not LineKind.ADDED),
        new_start=hunk.target_start,
        new_len=sum(1 for ln in lines if ln.kind is not LineKind.REMOVED),
        section=strip_ending(hunk.section_header or ""),
        lines=lines,
    )


# --- plain `diff -u` output (no git headers) -------------------------------------------------


def _parse_plain(lines: list[str]) -> tuple[FileDiff, ...]:
    files = []
    patch = PatchSet(lines)
    for patched in patch:
        _check_hunk_ends(lines, list(patched))
        header = FileHeader(binary=bool(patched.is_binary_file))
        source, target = patched.source_file or "", patched.target_file or ""
        header.new_file = source == DEV_NULL
        header.deleted = target == DEV_NULL
        header.old_path = None if header.new_file else header_path(source)
        header.new_path = None if header.deleted else header_path(target)
        files.append(_file_diff(header, tuple(_convert_hunk(h) for h in patched)))
    return tuple(files)
