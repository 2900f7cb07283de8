"""Which files are worth a model's tokens. Every file left out is listed with a SkipReason and
whether that reason is policy (diff/policy.py), never dropped silently."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from itertools import islice
from operator import attrgetter

from reviewer.diff import policy
from reviewer.models import FileDiff, FileStatus, LineKind, SkippedFile, SkipReason
from reviewer.settings.config import RepoConfig

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
MINIFIED_MEAN_LINE = policy.MINIFIED_MEAN_LINE
MINIFIED_NAME_PARTS = (".min.", "-min.")
_TEXT = attrgetter("text")

HeadReader = policy.HeadReader


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


def _minified_name(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    return any(part in name for part in MINIFIED_NAME_PARTS)


def _vendored(path: str) -> bool:
    return any(p in VENDORED_DIRS for p in path.split("/")[:-1])


def _lockfile(path: str) -> bool:
    return path.rsplit("/", 1)[-1].lower() in LOCKFILES


def _is_minified(f: FileDiff) -> bool:
    if _minified_name(f.path):
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
    if config.skip_vendored and _vendored(f.path):
        return SkipReason.VENDORED
    if config.skip_lockfiles and _lockfile(f.path):
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
    # islice: the first lines only, not a list of the whole hunk's texts.
    new_side = (ln.text for ln in f.hunks[0].lines if ln.kind is not LineKind.REMOVED)
    return list(islice(new_side, GENERATED_SCAN_LINES))


def _heads_or_shown(
    files: Sequence[FileDiff],
    shown: Mapping[str, list[str] | None],
    read: HeadReader | None,
    key: Callable[[FileDiff], str],
) -> dict[str, str]:
    """Each file's first GENERATED_SCAN_LINES lines: those the diff shows when it shows them
    all, else read from git by `key(f)` (a path), else whatever the diff shows."""
    unseen = [key(f) for f in files if len(shown[f.path] or ()) < GENERATED_SCAN_LINES]
    heads = read(unseen, GENERATED_SCAN_LINES) if unseen and read is not None else None
    result = {}
    for f in files:
        head = None if heads is None else heads.get(key(f))
        result[f.path] = head if head is not None else "\n".join(shown[f.path] or ())
    return result


def _has_marker(head: str) -> bool:
    return any(marker in head for marker in GENERATED_MARKERS)


def _generated(files: Sequence[FileDiff], read_heads: HeadReader) -> set[str]:
    """Files whose first lines carry a generated-code marker. The diff shows those lines
    when its first hunk starts at line 1 and is long enough; only the other files' heads are
    read from git (and, for a patch file, the diff's lines are all there is)."""
    shown: dict[str, list[str] | None] = {f.path: _shown_head(f) for f in files}
    heads = _heads_or_shown(files, shown, read_heads, attrgetter("path"))
    return {path for path, head in heads.items() if _has_marker(head)}


def _generated_at_base(files: Sequence[FileDiff], read_base: HeadReader | None) -> set[str]:
    """Of generated files, those whose old file carried the marker at base already."""
    old = [f for f in files if policy.existed_at_base(f)]
    shown = {f.path: policy.shown_base_head(f, GENERATED_SCAN_LINES) for f in old}
    heads = _heads_or_shown(old, shown, read_base, lambda f: f.old_path or f.path)
    return {path for path, head in heads.items() if _has_marker(head)}


def _is_policy(
    f: FileDiff, reason: SkipReason, config: RepoConfig, evidence: Evidence
) -> bool:
    """Whether the pull request could not have created this reason itself."""
    if reason in policy.ALWAYS_POLICY or reason.value in config.accept_unreviewed:
        return True
    if reason is SkipReason.SUBMODULE:
        # A bump of a submodule the base already had is the base's choice of external code; a
        # submodule the pull request adds brings in code nobody here reviewed.
        return policy.existed_at_base(f)
    if reason is SkipReason.VENDORED:
        return policy.existed_at_base(f) and _vendored(f.old_path or "")
    if reason is SkipReason.LOCKFILE:
        if policy.existed_at_base(f) and _lockfile(f.old_path or ""):
            return True
        return policy.lockfile_by_content(f, evidence.lockfile_heads.get(f.path))
    if reason is SkipReason.MINIFIED:
        base_head = evidence.minified_base_heads.get(f.path)
        return policy.minified_at_base(f, _minified_name, base_head)
    if reason is SkipReason.BINARY:
        return evidence.binary_at_base is not None and f.path in evidence.binary_at_base
    return False  # generated is settled by _generated_at_base; the rest the PR decides


class Evidence:
    """What the base revision and the head tree say about the files, for the policy check."""

    def __init__(
        self,
        read_base: HeadReader | None = None,
        binary_at_base: frozenset[str] | None = None,
    ) -> None:
        self.read_base = read_base
        self.binary_at_base = binary_at_base
        self.lockfile_heads: Mapping[str, str] = {}
        self.minified_base_heads: Mapping[str, str] = {}  # by head path


def _lockfile_heads(
    files: Sequence[tuple[FileDiff, SkipReason]], read_heads: HeadReader
) -> Mapping[str, str]:
    paths = [
        f.path
        for f, r in files
        if r is SkipReason.LOCKFILE and f.path.rsplit("/", 1)[-1].lower() in policy.SIGNATURES
    ]
    if not paths:
        return {}
    return read_heads(paths, policy.LOCKFILE_SCAN_LINES) or {}


def _minified_base_heads(
    files: Sequence[tuple[FileDiff, SkipReason]], read_base: HeadReader | None
) -> Mapping[str, str]:
    """The old files' first lines, for files left out as minified that existed at base."""
    old = {
        f.old_path: f.path
        for f, r in files
        if r is SkipReason.MINIFIED and f.old_path is not None and policy.existed_at_base(f)
    }
    heads = read_base(list(old), policy.MINIFIED_SCAN_LINES) if old and read_base else None
    return {old[p]: text for p, text in (heads or {}).items() if p in old}


def _skip(f: FileDiff, reason: SkipReason, is_policy: bool) -> SkippedFile:
    return SkippedFile(
        path=f.path, reason=reason.value, policy=is_policy, added=f.added, removed=f.removed
    )


def filter_files(
    files: Sequence[FileDiff],
    config: RepoConfig,
    read_heads: HeadReader,
    evidence: Evidence | None = None,
) -> tuple[tuple[FileDiff, ...], tuple[SkippedFile, ...]]:
    """Split the parsed files into those to review and those skipped (with a reason, and
    whether that reason is policy or leaves the file unreviewed)."""
    evidence = evidence or Evidence()
    candidates: list[FileDiff] = []
    left_out: list[tuple[FileDiff, SkipReason]] = []
    for f in files:
        reason = _structural_reason(f) or _path_reason(f, config)
        if reason is None:
            candidates.append(f)
        else:
            left_out.append((f, reason))
    evidence.lockfile_heads = _lockfile_heads(left_out, read_heads)
    evidence.minified_base_heads = _minified_base_heads(left_out, evidence.read_base)
    skipped = [_skip(f, r, _is_policy(f, r, config, evidence)) for f, r in left_out]
    generated = _generated(candidates, read_heads) if config.skip_generated else set()
    gen_files = [f for f in candidates if f.path in generated]
    at_base = _generated_at_base(gen_files, evidence.read_base)
    accepted = SkipReason.GENERATED.value in config.accept_unreviewed
    skipped += [
        _skip(f, SkipReason.GENERATED, accepted or f.path in at_base)
        for f in sorted(gen_files, key=attrgetter("path"))
    ]
    kept = tuple(f for f in candidates if f.path not in generated)
    return kept, tuple(skipped)
