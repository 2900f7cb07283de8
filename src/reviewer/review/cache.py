"""The response cache: model answers stored on disk under a key the caller derives from
everything that determines the answer, so a re-run on the same head makes no model calls.

The cache is an optimisation and never a reason to fail: every read or write problem (missing,
unreadable, corrupt, read-only, full disk, a file vanishing under a concurrent run) is ignored.
Entries are JSON files in a sharded layout (`v1/ab/<key>.json`), written atomically; the size is
bounded by evicting the least recently used entries (a hit refreshes an entry's mtime).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Bump when the entry layout changes: old entries are then simply never found.
FORMAT_VERSION = 1
LAYOUT_DIR = f"v{FORMAT_VERSION}"
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# A full directory scan after this many puts catches what concurrent runs wrote meanwhile.
RESCAN_EVERY = 64
# Evict down to this share of max_bytes so a full cache is not rescanned on every put.
LOW_WATER = 0.9
# Temp files older than this are leftovers of a killed run, not a write in progress.
STALE_TEMP_S = 3600.0

_KEY_RE = re.compile(r"[0-9a-f]{64}")
_TEMP_SUFFIX = ".tmp"


def make_key(parts: dict[str, Any]) -> str:
    """A cache key: the sha256 of the parts as canonical JSON (sorted keys, no spaces), so
    the same parts always give the same key and any changed part gives another."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def is_valid_key(key: object) -> bool:
    return isinstance(key, str) and _KEY_RE.fullmatch(key) is not None


@dataclass(frozen=True)
class _Entry:
    path: Path
    size: int
    mtime_ns: int


class ResponseCache:
    """A bounded, process-safe key -> JSON-object store. `get` and `put` never raise."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        rescan_every: int = RESCAN_EVERY,
    ) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self._root = self.directory / LAYOUT_DIR
        self._rescan_every = max(1, rescan_every)
        self._puts_since_scan = 0
        self._approx_bytes: int | None = None  # unknown until the first scan
        self._last_stamp_ns = 0

    # --- public API --------------------------------------------------------------------------

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored value, or None on a miss or any problem with the entry."""
        if not is_valid_key(key):
            log.debug("cache: ignoring invalid key %r", key)
            return None
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None  # a miss, or an unreadable cache: both mean "ask the model"
        value = _decode(raw, key)
        if value is None:
            log.debug("cache: removing corrupt entry %s", path)
            _unlink_quietly(path)
            return None
        self._stamp(path)  # a hit makes the entry the most recently used
        return value

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store value under key (atomically), then evict old entries if over the bound."""
        if not is_valid_key(key):
            log.debug("cache: ignoring invalid key %r", key)
            return
        data = _encode(key, value)
        if data is None or len(data) > self.max_bytes:
            return
        try:
            path = self._write(key, data)
        except OSError as e:
            log.debug("cache: cannot write %s: %s", key, e)
            return
        self._stamp(path)
        try:
            self._after_put(len(data), path)
        except OSError as e:  # eviction is best effort too
            log.debug("cache: eviction failed: %s", e)

    # --- writing -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self._root / key[:2] / f"{key}.json"

    def _write(self, key: str, data: bytes) -> Path:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Same directory as the target, so os.replace is an atomic rename: a reader sees the
        # old entry or the new one, never half of one, whatever other runs do meanwhile.
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}.", suffix=_TEMP_SUFFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            _unlink_quietly(Path(tmp))
            raise
        return path

    def _stamp(self, path: Path) -> None:
        """Set the entry's times to a strictly increasing per-process clock: the kernel's file
        timestamps are coarse (a few ms), and equal mtimes would make the LRU order a guess."""
        now = max(time.time_ns(), self._last_stamp_ns + 1)
        self._last_stamp_ns = now
        with contextlib.suppress(OSError):
            os.utime(path, ns=(now, now))

    # --- eviction ----------------------------------------------------------------------------

    def _after_put(self, size: int, newest: Path) -> None:
        self._puts_since_scan += 1
        if self._approx_bytes is not None:
            # Overwrites count twice: that only brings the next exact scan forward.
            self._approx_bytes += size
        due = self._approx_bytes is None or self._puts_since_scan >= self._rescan_every
        if due or (self._approx_bytes is not None and self._approx_bytes > self.max_bytes):
            self._evict(newest)

    def _evict(self, newest: Path) -> None:
        entries = sorted(self._scan(), key=lambda e: (e.mtime_ns, e.path.name))
        total = sum(e.size for e in entries)
        self._puts_since_scan = 0
        if total > self.max_bytes:
            target = int(self.max_bytes * LOW_WATER)
            for entry in entries:
                if total <= target:
                    break
                if entry.path == newest:
                    continue  # never evict what this put just wrote
                if _unlink_quietly(entry.path):
                    log.debug("cache: evicted %s", entry.path.name)
                # Gone either way: evicted here, or by a concurrent run.
                total -= entry.size
        self._approx_bytes = total

    def _scan(self) -> Iterator[_Entry]:
        """Every entry file, tolerating shards and files that vanish during the walk."""
        for shard in _listdir(self._root):
            if not shard.is_dir(follow_symlinks=False):
                continue
            for item in _listdir(Path(shard.path)):
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError:
                    continue
                if item.name.endswith(_TEMP_SUFFIX):
                    _remove_if_stale(Path(item.path), st.st_mtime)
                elif item.name.endswith(".json"):
                    yield _Entry(Path(item.path), st.st_size, st.st_mtime_ns)


# --- helpers ---------------------------------------------------------------------------------


def _encode(key: str, value: dict[str, Any]) -> bytes | None:
    if not isinstance(value, dict):
        return None
    entry = {"format": FORMAT_VERSION, "key": key, "value": value}
    try:
        text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        log.debug("cache: value for %s is not JSON: %s", key, e)
        return None
    return text.encode("utf-8")


def _decode(raw: bytes, key: str) -> dict[str, Any] | None:
    """The value of a well-formed entry of this format for this key, else None."""
    try:
        entry = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT_VERSION:
        return None
    value = entry.get("value")
    if entry.get("key") != key or not isinstance(value, dict):
        return None
    return value


def _listdir(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except OSError:
        return []


def _unlink_quietly(path: Path) -> bool:
    try:
        path.unlink()
    except OSError:
        return False
    return True


def _remove_if_stale(path: Path, mtime: float) -> None:
    if time.time() - mtime > STALE_TEMP_S:
        _unlink_quietly(path)
