"""The response cache on a real filesystem: hits and misses, damage ignored, LRU eviction,
concurrent processes, and a property test against a bounded-dict model."""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.review.cache import DEFAULT_MAX_BYTES, ResponseCache, is_valid_key, make_key
from reviewer.settings.paths import default_cache_dir

IS_ROOT = os.geteuid() == 0


def key(n: int) -> str:
    return make_key({"n": n})


def entry_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("v1/*/*.json"))


def cache_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in entry_files(directory))


# --- basics ----------------------------------------------------------------------------------


def test_miss_then_hit(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    assert cache.get(key(1)) is None
    cache.put(key(1), {"findings": [{"line": 3}], "tokens": 12})
    assert cache.get(key(1)) == {"findings": [{"line": 3}], "tokens": 12}
    assert cache.get(key(2)) is None


def test_value_survives_a_new_instance(tmp_path: Path) -> None:
    ResponseCache(tmp_path).put(key(1), {"a": "ü ✓"})
    assert ResponseCache(tmp_path).get(key(1)) == {"a": "ü ✓"}


def test_sharded_layout_and_no_temp_files_left(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    k = key(7)
    cache.put(k, {"x": 1})
    assert (tmp_path / "v1" / k[:2] / f"{k}.json").is_file()
    assert list(tmp_path.rglob("*.tmp")) == []


def test_overwrite_replaces_value(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(key(1), {"v": 1})
    cache.put(key(1), {"v": 2})
    assert cache.get(key(1)) == {"v": 2}
    assert len(entry_files(tmp_path)) == 1


@pytest.mark.parametrize(
    "bad", ["", "abc", "A" * 64, "g" * 64, "0" * 63, "0" * 65, "../" + "0" * 61, "0" * 63 + "\n"]
)
def test_invalid_keys_are_ignored(tmp_path: Path, bad: str) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(bad, {"v": 1})
    assert cache.get(bad) is None
    assert not tmp_path.joinpath("v1").exists()
    assert not is_valid_key(bad)


def test_unserialisable_value_is_ignored(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(key(1), {"v": object()})
    cache.put(key(2), {"v": float("nan")})  # NaN is not JSON
    assert cache.get(key(1)) is None
    assert cache.get(key(2)) is None
    assert entry_files(tmp_path) == []


def test_entry_larger_than_the_bound_is_not_stored(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, max_bytes=100)
    cache.put(key(1), {"v": "x" * 200})
    assert cache.get(key(1)) is None
    assert entry_files(tmp_path) == []


def test_make_key_is_canonical_and_sensitive() -> None:
    a = make_key({"model": "m", "chunk": "text", "options": {"seed": 1, "num_predict": 9}})
    b = make_key({"options": {"num_predict": 9, "seed": 1}, "chunk": "text", "model": "m"})
    c = make_key({"model": "m", "chunk": "text ", "options": {"seed": 1, "num_predict": 9}})
    assert a == b
    assert a != c
    assert is_valid_key(a)


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "reviewer"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "reviewer"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # invalid per the XDG spec
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "reviewer"


def test_default_bound_is_200_mib(tmp_path: Path) -> None:
    assert ResponseCache(tmp_path).max_bytes == DEFAULT_MAX_BYTES == 200 * 1024 * 1024


# --- damage is ignored -----------------------------------------------------------------------


def _entry_path(directory: Path, k: str) -> Path:
    return directory / "v1" / k[:2] / f"{k}.json"


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"format": 1, "key": "',  # truncated
        b"\xff\xfe not utf-8",
        b"[1, 2, 3]",
        b'{"format": 2, "key": "KEY", "value": {}}',  # a future format
        b'{"format": 1, "key": "KEY", "value": [1]}',  # value not an object
        b'{"format": 1, "key": "' + b"0" * 64 + b'", "value": {}}',  # another key's entry
        b"[" * 100_000,  # deep nesting
    ],
)
def test_corrupt_entry_is_a_miss_and_removed(tmp_path: Path, content: bytes) -> None:
    k = key(1)
    path = _entry_path(tmp_path, k)
    path.parent.mkdir(parents=True)
    path.write_bytes(content.replace(b"KEY", k.encode()))
    cache = ResponseCache(tmp_path)
    assert cache.get(k) is None
    assert not path.exists()
    cache.put(k, {"ok": True})  # and the slot is usable again
    assert cache.get(k) == {"ok": True}


def test_entry_that_is_a_directory_is_a_miss(tmp_path: Path) -> None:
    k = key(1)
    _entry_path(tmp_path, k).mkdir(parents=True)
    cache = ResponseCache(tmp_path)
    assert cache.get(k) is None
    cache.put(k, {"v": 1})  # os.replace onto a directory fails: ignored
    assert _entry_path(tmp_path, k).is_dir()


def test_cache_dir_that_is_a_file_is_ignored(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("not a directory")
    for directory in (blocker, blocker / "below"):
        cache = ResponseCache(directory)
        cache.put(key(1), {"v": 1})
        assert cache.get(key(1)) is None
    assert blocker.read_text() == "not a directory"


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make a directory tree unwritable for this process, also when it runs as root (where
    mode bits do not bind, but the immutable attribute does)."""
    dirs = [path, *(p for p in path.rglob("*") if p.is_dir())]
    if IS_ROOT:
        if shutil.which("chattr") is None:
            pytest.skip("running as root without chattr: cannot make a directory read-only")
        done = subprocess.run(["chattr", "+i", *map(str, dirs)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"chattr +i refused: {done.stderr.decode().strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, dirs)], check=True)
    else:
        for d in dirs:
            d.chmod(0o555)
        try:
            yield
        finally:
            for d in dirs:
                d.chmod(0o755)


def test_read_only_cache_is_ignored_on_put_and_still_read(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, max_bytes=10_000, rescan_every=1)
    cache.put(key(1), {"old": True})
    with read_only(tmp_path):
        writer = ResponseCache(tmp_path, max_bytes=10_000, rescan_every=1)
        for n in range(2, 30):  # new shards, and enough bytes to want an eviction
            writer.put(key(n), {"v": "x" * 500})
        assert writer.get(key(1)) == {"old": True}
        assert writer.get(key(2)) is None
    assert entry_files(tmp_path) == [_entry_path(tmp_path, key(1))]


def _as_unprivileged(fn: Callable[[], Any]) -> Any:
    """Run fn in a forked child that dropped root (mode bits bind again); else directly."""
    if not IS_ROOT:
        return fn()
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()

    def target() -> None:
        os.setgid(65534)
        os.setuid(65534)
        try:
            child.send(("ok", fn()))
        except BaseException as e:  # report any failure to the parent
            child.send(("error", repr(e)))

    proc = ctx.Process(target=target)
    proc.start()
    status, value = parent.recv()
    proc.join()
    assert status == "ok", value
    return value


def test_unreadable_entries_and_dir_are_ignored() -> None:
    # Outside pytest's 0700 tmp root, so an unprivileged child can reach the directory.
    base = Path(tempfile.mkdtemp(prefix="reviewer-cache-test-"))
    try:
        base.chmod(0o777)  # the unprivileged child builds everything below

        def probe() -> list[Any]:
            writer = ResponseCache(base / "c")
            for n in range(3):
                writer.put(key(n), {"v": n})
            _entry_path(base / "c", key(0)).chmod(0o000)  # an unreadable file
            _entry_path(base / "c", key(1)).parent.chmod(0o000)  # an unreadable shard
            (base / "locked").mkdir(mode=0o000)  # an unreadable cache root
            cache = ResponseCache(base / "c", rescan_every=1)
            locked = ResponseCache(base / "locked" / "c")
            locked.put(key(5), {"v": 5})
            cache.put(key(9), {"v": 9})  # the put's scan meets the unreadable parts
            return [cache.get(key(n)) for n in (0, 1, 2, 9)] + [locked.get(key(5))]

        results = _as_unprivileged(probe)
        assert results[0] is None  # unreadable file
        assert results[1] is None  # unreadable shard
        if key(2)[:2] != key(1)[:2]:
            assert results[2] == {"v": 2}  # readable entries still hit
        if key(9)[:2] not in (key(1)[:2],):
            assert results[3] == {"v": 9}
        assert results[4] is None  # unreadable root: put and get both ignored
    finally:
        for p in [base, *base.rglob("*")]:
            with contextlib.suppress(OSError):
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_stale_temp_files_are_cleaned_on_scan(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, rescan_every=1)
    cache.put(key(1), {"v": 1})
    shard = _entry_path(tmp_path, key(1)).parent
    stale = shard / ".deadbeef.abc.tmp"
    fresh = shard / ".cafebabe.abc.tmp"
    stale.write_text("half")
    fresh.write_text("in progress")
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    cache.put(key(1), {"v": 2})
    assert not stale.exists()
    assert fresh.exists()  # may be another run's write in progress


# --- eviction --------------------------------------------------------------------------------


def test_lru_eviction_keeps_recently_used(tmp_path: Path) -> None:
    probe = ResponseCache(tmp_path / "probe")
    probe.put(key(0), {"p": "x" * 1000})
    size = cache_bytes(tmp_path / "probe")

    cache = ResponseCache(tmp_path / "c", max_bytes=int(size * 3.5), rescan_every=1)
    for n in (1, 2, 3):
        cache.put(key(n), {"p": "x" * 1000})
    assert cache.get(key(1)) is not None  # 1 is now the most recently used
    cache.put(key(4), {"p": "x" * 1000})  # over the bound: the oldest (2) goes
    assert cache.get(key(2)) is None
    assert cache.get(key(1)) is not None
    assert cache.get(key(3)) is not None
    assert cache.get(key(4)) is not None
    assert cache_bytes(tmp_path / "c") <= cache.max_bytes


def test_eviction_sees_other_writers_on_rescan(tmp_path: Path) -> None:
    a = ResponseCache(tmp_path, max_bytes=5_000, rescan_every=4)
    b = ResponseCache(tmp_path, max_bytes=5_000, rescan_every=4)
    for n in range(40):
        (a if n % 2 else b).put(key(n), {"p": "y" * 300})
    # Each instance only counts its own bytes, so the bound may be overshot between scans,
    # but never by more than one rescan interval of both writers.
    assert cache_bytes(tmp_path) <= 5_000 + 2 * 4 * 400
    assert a.get(key(39)) == {"p": "y" * 300}


# --- concurrency -----------------------------------------------------------------------------


def _worker(directory: str, worker: int, rounds: int) -> list[str]:
    """Puts and gets on keys shared with other workers; returns the problems it saw."""
    cache = ResponseCache(Path(directory), max_bytes=40_000, rescan_every=8)
    problems = []
    for i in range(rounds):
        k = key(i % 25)
        payload = f"{worker}-{i}-" + "z" * (200 + 37 * worker)
        cache.put(k, {"key": k, "writer": worker, "payload": payload, "len": len(payload)})
        got = cache.get(key((i * 7 + worker) % 25))
        if got is not None and (
            got.get("key") != key((i * 7 + worker) % 25) or len(got["payload"]) != got["len"]
        ):
            problems.append(f"inconsistent entry: {got!r:.80}")
    return problems


@pytest.mark.parametrize("workers", [4])
def test_concurrent_processes(tmp_path: Path, workers: int) -> None:
    ctx = multiprocessing.get_context("spawn")  # fresh interpreters, like separate CI runs
    with ctx.Pool(workers) as pool:
        results = pool.starmap(_worker, [(str(tmp_path), w, 50) for w in range(workers)])
    assert results == [[]] * workers
    files = entry_files(tmp_path)
    assert files, "some entries must survive"
    for path in files:
        entry = json.loads(path.read_bytes())  # every entry on disk is complete JSON
        assert entry["format"] == 1
        assert entry["key"] == path.stem == entry["value"]["key"]
    assert list(tmp_path.rglob("*.tmp")) == []
    assert cache_bytes(tmp_path) <= 40_000 + workers * 8 * 400


# --- property: a bounded dict ----------------------------------------------------------------

ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), st.integers(0, 9), st.integers(0, 10**6), st.integers(0, 300)),
        st.tuples(st.just("get"), st.integers(0, 9), st.just(0), st.just(0)),
    ),
    max_size=40,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=ops, bounded=st.booleans())
def test_behaves_like_a_bounded_dict(
    tmp_path_factory: pytest.TempPathFactory, ops: list[tuple[str, int, int, int]], bounded: bool
) -> None:
    directory = tmp_path_factory.mktemp("prop")
    max_bytes = 1_500 if bounded else DEFAULT_MAX_BYTES
    cache = ResponseCache(directory, max_bytes=max_bytes, rescan_every=1)
    model: dict[int, dict[str, Any]] = {}
    for op, n, v, pad in ops:
        if op == "put":
            value = {"v": v, "pad": "p" * pad}
            cache.put(key(n), value)
            model[n] = value
            # the entry just written is always there
            assert cache.get(key(n)) == value
            assert cache_bytes(directory) <= max_bytes
        else:
            got = cache.get(key(n))
            if bounded:
                # an entry may have been evicted, but never answers with a stale or foreign value
                assert got is None or got == model.get(n)
            else:
                assert got == model.get(n)
