"""Which files are worth a model's tokens. Every file left out is listed with a SkipReason,
never dropped silently."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from operator import attrgetter

from reviewer.config import RepoConfig
from reviewer.models import FileDiff, FileStatus, LineKind, SkippedFile, SkipReason

LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "bun.lock",
        "poetry.lock",
        "uv.lock",
        "pdm.lock",
        "pipfile.lock",
        "cargo.lock",
        "go.sum",
        "gemfile.lock",
        "composer.lock",
        "packages.lock.json",
        "pubspec.lock",
        "podfile.lock",
        "mix.lock",
        "flake.lock",
        "gradle.lockfile",
        "package.resolved",
        "conda-lock.yml",
    }
)
VENDORED_DIRS = frozenset({"vendor", "node_modules", "third_party", "third-party", "vendored"})
GENERATED_MARKERS = ("@generated", "DO NOT EDIT")
GENERATED_SCAN_LINES = 5
# A minified file is one long line after another; hand-written code averages well under 100.
MINIFIED_MEAN_LINE = 300
MINIFIED_NAME_PARTS = (".min.", "-min.")
_TEXT = attrgetter("text")

HeadReader = Callable[[Sequence[str], int], Mapping[str, str] | None]


def glob_match(path: str, pattern: str) -> bool:
    """fnmatch on the whole path (`*` also crosses `/`); a pattern without `/` also matches the
    base name; `dir/` matches everything under dir; `**/` may match no directory at all."""
    if pattern.endswith("/"):
        return path.startswith(pattern) or f"/{pattern}" in f"/{path}"
    candidates = {pattern, pattern.replace("**/", "")}
    name = path.rsplit("/", 1)[-1]
    return any(
        fnmatchcase(path, pat) or ("/" not in pat and fnmatchcase(name, pat))
        for pat in candidates
    )


def _any_match(path: str, patterns: Iterable[str]) -> bool:
    return any(glob_match(path, p) for p in patterns)


def _structural_reason(f: FileDiff) -> SkipReason | None:
    """Reasons read from the header alone."""
    if f.is_submodule:
        return SkipReason.SUBMODULE
    if f.is_binary:
        return SkipReason.BINARY
    # Changed lines without hunks: the parser left out a file too large to hold (too_large).
    unchanged = not f.hunks and f.added + f.removed == 0
    if unchanged and f.status in (FileStatus.RENAMED, FileStatus.COPIED):
        return SkipReason.RENAME_ONLY
    if unchanged and f.old_mode != f.new_mode and f.status is FileStatus.MODIFIED:
        return SkipReason.MODE_ONLY
    if unchanged:  # an empty file added or deleted: no line to show
        return SkipReason.EMPTY
    return None


def _is_minified(f: FileDiff) -> bool:
    name = f.path.rsplit("/", 1)[-1].lower()
    if any(part in name for part in MINIFIED_NAME_PARTS):
        return True
    # All lines' text bounds the added lines': a pass at C speed settles most files.
    if sum(sum(map(len, map(_TEXT, h.lines))) for h in f.hunks) <= MINIFIED_MEAN_LINE * f.added:
        return False
    lengths = [len(ln.text) for h in f.hunks for ln in h.lines if ln.kind is LineKind.ADDED]
    return bool(lengths) and sum(lengths) / len(lengths) > MINIFIED_MEAN_LINE


def _path_reason(f: FileDiff, config: RepoConfig) -> SkipReason | None:
    """Reasons from the path, the globs and the size of the change."""
    if _any_match(f.path, config.exclude):
        return SkipReason.EXCLUDED
    if config.include and not _any_match(f.path, config.include):
        return SkipReason.NOT_INCLUDED
    parts = f.path.split("/")
    if config.skip_vendored and any(p in VENDORED_DIRS for p in parts[:-1]):
        return SkipReason.VENDORED
    if config.skip_lockfiles and parts[-1].lower() in LOCKFILES:
        return SkipReason.LOCKFILE
    if f.added + f.removed > config.max_file_lines:
        return SkipReason.TOO_LARGE
    if config.skip_minified and _is_minified(f):
        return SkipReason.MINIFIED
    return None


def _shown_head(f: FileDiff) -> list[str]:
    """The first lines of the new file as far as the diff shows them."""
    if not f.hunks or f.hunks[0].new_start > 1:
        return []
    texts = [ln.text for ln in f.hunks[0].lines if ln.kind is not LineKind.REMOVED]
    return texts[:GENERATED_SCAN_LINES]


def _generated(files: Sequence[FileDiff], read_heads: HeadReader) -> set[str]:
    """Files whose first lines carry a generated-code marker. The diff shows those lines
    when its first hunk starts at line 1 and is long enough; only the other files' heads are
    read from git (and, for a patch file, the diff's lines are all there is)."""
    shown = {f.path: _shown_head(f) for f in files}
    unseen = [p for p, head in shown.items() if len(head) < GENERATED_SCAN_LINES]
    heads = read_heads(unseen, GENERATED_SCAN_LINES) if unseen else None
    found = set()
    for path, lines in shown.items():
        head = None if heads is None else heads.get(path)
        if head is None:  # not read from git: judge by the lines the diff shows
            head = "\n".join(lines)
        if any(marker in head for marker in GENERATED_MARKERS):
            found.add(path)
    return found


def filter_files(
    files: Sequence[FileDiff], config: RepoConfig, read_heads: HeadReader
) -> tuple[tuple[FileDiff, ...], tuple[SkippedFile, ...]]:
    """Split the parsed files into those to review and those skipped (with a reason)."""
    candidates: list[FileDiff] = []
    skipped: list[SkippedFile] = []
    for f in files:
        reason = _structural_reason(f) or _path_reason(f, config)
        if reason is None:
            candidates.append(f)
        else:
            skipped.append(SkippedFile(path=f.path, reason=reason.value))
    generated = _generated(candidates, read_heads) if config.skip_generated else set()
    skipped += [SkippedFile(path=p, reason=SkipReason.GENERATED.value) for p in sorted(generated)]
    kept = tuple(f for f in candidates if f.path not in generated)
    return kept, tuple(skipped)
