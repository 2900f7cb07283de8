"""build_plan end to end on real repositories: config from the base revision, skips, and
property tests over random repositories and edits (coverage, numbering, numstat, budget,
determinism); plus a 200,000-line diff within a memory bound."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewer.chunks.chunking import chunk_budget
from reviewer.chunks.intent import render_intent
from reviewer.errors import ConfigError
from reviewer.models import FileStatus, LineKind, PromptContext, ReviewPlan
from reviewer.plan import build as plan_module
from reviewer.plan.build import build_plan
from reviewer.settings.slices import DiffSettings, PlanSettings

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@e",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@e",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(root: Path, *args: str) -> bytes:
    return subprocess.run(
        ["git", *args], cwd=root, env=ENV, capture_output=True, check=True
    ).stdout


def write(root: Path, files: dict[str, bytes]) -> None:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)


def commit(root: Path) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", "c")
    return git(root, "rev-parse", "HEAD").decode().strip()


def init(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")


def test_config_from_base_cannot_be_switched_off_by_the_pr(tmp_path: Path) -> None:
    init(tmp_path)
    write(tmp_path, {"pyproject.toml": b'[tool.reviewer]\nexclude = ["docs/**"]\n'})
    base = commit(tmp_path)
    write(
        tmp_path,
        {
            ".reviewer.toml": b'exclude = ["**"]\n',  # the PR's attempt to skip its review
            "pyproject.toml": b'[tool.reviewer]\nexclude = ["**"]\n',
            "app.py": b"print('hi')\n",
            "docs/x.md": b"doc\n",
            "yarn.lock": b"lock\n",
        },
    )
    commit(tmp_path)
    plan = build_plan(DiffSettings(repo=tmp_path, base=base), environ={})
    assert [f.path for f in plan.files] == [".reviewer.toml", "app.py", "pyproject.toml"]
    reasons = {s.path: s.reason for s in plan.skipped}
    assert reasons["docs/x.md"] == "excluded"
    assert reasons["yarn.lock"] == "lockfile"
    # --staged and --diff-file read the working tree's config instead
    write(tmp_path, {"other.py": b"x = 1\n"})
    git(tmp_path, "add", "other.py")
    staged = build_plan(DiffSettings(repo=tmp_path, staged=True), environ={})
    assert staged.files == () and [s.reason for s in staged.skipped] == ["excluded"]
    # flags add to the config's globs; --config names a file explicitly (outside the
    # repository here: one inside is read from the base revision)
    explicit = tmp_path.parent / f"{tmp_path.name}-explicit.toml"
    explicit.write_text("max_file_lines = 1\n")
    both = build_plan(
        DiffSettings(repo=tmp_path, base=base),
        PlanSettings(config_path=explicit, exclude=("*.md",)),
        {},
    )
    both_reasons = {s.path: s.reason for s in both.skipped}
    assert both_reasons["docs/x.md"] == "excluded"  # from the flag; the file has no globs
    assert both_reasons["pyproject.toml"] == "too_large"  # 1 added + 1 removed > 1
    assert [f.path for f in both.files] == [".reviewer.toml", "app.py"]


def test_a_broken_config_is_a_config_error(tmp_path: Path) -> None:
    init(tmp_path)
    write(tmp_path, {".reviewer.toml": b"exclude = [\n"})
    base = commit(tmp_path)
    write(tmp_path, {"a.py": b"x\n"})
    commit(tmp_path)
    with pytest.raises(ConfigError, match=r"\.reviewer\.toml"):
        build_plan(DiffSettings(repo=tmp_path, base=base), environ={})


def test_empty_diff_is_an_empty_plan(tmp_path: Path) -> None:
    """Two commits with nothing between them (an empty commit, as a merge can be): a real,
    empty review. The same commit as base and head is refused (tests/cli/test_cli_claims.py)."""
    init(tmp_path)
    write(tmp_path, {"a.py": b"x\n"})
    base = commit(tmp_path)
    head = commit(tmp_path)
    plan = build_plan(DiffSettings(repo=tmp_path, base="HEAD~1"), environ={})
    intent = PromptContext(intent=render_intent(None, None, ["c"]))  # the commit's subject
    assert head != base and plan == ReviewPlan(base=base, head=head, context=intent)



def test_the_garbage_collector_is_paused_only_while_planning(tmp_path: Path) -> None:
    """Planning pauses the cyclic collector (docs/performance.md) and always restores it: on
    success, on an error, and a caller's own choice to keep it off."""
    init(tmp_path)
    write(tmp_path, {".reviewer.toml": b"exclude = [\n"})
    base = commit(tmp_path)
    write(tmp_path, {"a.py": b"x\n"})
    commit(tmp_path)
    seen: list[bool] = []
    real = plan_module.parse_raw

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    assert gc.isenabled()
    with pytest.raises(ConfigError):
        build_plan(DiffSettings(repo=tmp_path, base=base), environ={})
    assert gc.isenabled()
    empty = tmp_path.parent / f"{tmp_path.name}-empty.toml"  # outside: read from disk
    empty.write_text("")
    diff, settings = DiffSettings(repo=tmp_path, base=base), PlanSettings(config_path=empty)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plan_module, "parse_raw", spy)
        assert build_plan(diff, settings, {}).files[0].path == "a.py"
        assert seen == [False] and gc.isenabled()
        gc.disable()
        try:
            build_plan(diff, settings, {})
            assert not gc.isenabled()
        finally:
            gc.enable()

# --- properties over random repositories -----------------------------------------------------

WORDS = ["a", "b = 1", "", "  x", "def f():", "é", "\tz", "caf\xe9"]
line_st = st.sampled_from(WORDS).map(lambda w: w.encode("utf-8"))
latin = st.just("na\xefve".encode("latin-1"))
content_st = st.tuples(
    st.lists(st.one_of(line_st, latin), max_size=25),
    st.sampled_from([b"\n", b"\r\n"]),
    st.booleans(),
).map(lambda t: t[1].join(t[0]) + (t[1] if t[2] and t[0] else b""))
names_st = st.sampled_from(["a.py", "b.txt", "d/c.py", "d/e f.py", "ü.py", "z/y/x.rs"])
edit_st = st.sampled_from(["keep", "rewrite", "tweak", "delete", "rename"])


def _tweak(data: bytes, seed: int) -> bytes:
    lines = data.split(b"\n")
    i = seed % (len(lines) + 1)
    return b"\n".join([*lines[:i], b"inserted %d" % seed, *lines[i + 1 :]])


def _assert_plan_is_right(root: Path, base: str, head: str, plan: ReviewPlan, budget: int) -> None:
    numstat = {}
    for row in git(root, "diff", "--numstat", "-z", "-M", base, head).split(b"\0"):
        if row.count(b"\t") == 2 and not row.endswith(b"\t"):
            a, r, p = row.split(b"\t")
            numstat[p.decode("utf-8", "replace")] = (int(a), int(r))
    shown: dict[str, list[int]] = {}
    shown_removed: dict[str, list[int]] = {}
    for chunk in plan.chunks:
        assert chunk.estimated_tokens <= budget
        for cf in chunk.files:
            shown.setdefault(cf.path, []).extend(cf.added_lines)
            shown_removed.setdefault(cf.path, []).extend(cf.removed_lines)
    for f in plan.files:
        if f.path in numstat:
            assert (f.added, f.removed) == numstat[f.path]
        deleted = f.status is FileStatus.DELETED
        at_head = [] if deleted else git(root, "cat-file", "blob", f"{head}:{f.path}").split(b"\n")
        at_base = git(root, "cat-file", "blob", f"{base}:{f.old_path}").split(b"\n") if f.removed else []
        added, removed = [], []
        for hunk in f.hunks:
            for line in hunk.lines:
                if line.kind is LineKind.ADDED:
                    assert line.new_no is not None
                    text = at_head[line.new_no - 1].decode("utf-8", "replace")
                    assert text.removesuffix("\r") == line.text
                    added.append(line.new_no)
                if line.kind is LineKind.REMOVED:  # by its old-file number, in the base blob
                    assert line.old_no is not None
                    text = at_base[line.old_no - 1].decode("utf-8", "replace")
                    assert text.removesuffix("\r") == line.text
                    removed.append(line.old_no)
        assert sorted(shown.get(f.path, [])) == sorted(added)  # each exactly once
        assert sorted(shown_removed.get(f.path, [])) == sorted(removed)  # each exactly once
    assert set(shown) <= {f.path for f in plan.files}


@settings(
    max_examples=int(os.environ.get("REVIEWER_HYPOTHESIS_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    before=st.dictionaries(names_st, content_st, min_size=1, max_size=4),
    edits=st.lists(st.tuples(edit_st, st.integers(0, 50)), min_size=6, max_size=6),
    new=st.dictionaries(names_st.map(lambda n: "new/" + n), content_st, max_size=2),
    num_ctx=st.sampled_from([1000, 1400, 2048]),
)
def test_random_repositories(
    before: dict[str, bytes],
    edits: list[tuple[str, int]],
    new: dict[str, bytes],
    num_ctx: int,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        init(root)
        write(root, before)
        base = commit(root)
        for (path, data), (edit, seed) in zip(sorted(before.items()), edits, strict=False):
            if edit == "rewrite":
                write(root, {path: _tweak(_tweak(data, seed), seed * 7 + 1)})
            elif edit == "tweak":
                write(root, {path: _tweak(data, seed)})
            elif edit == "delete":
                (root / path).unlink()
            elif edit == "rename":
                (root / path).rename(root / f"{path}.moved")
        write(root, new)
        head = commit(root)
        settings_ = DiffSettings(repo=root, base=base)
        # The diff alone: small contexts (the point here) leave no room for an intent.
        alone = PlanSettings(no_description=True)
        plan = build_plan(settings_, alone, {}, num_ctx=num_ctx, num_predict=64)
        _assert_plan_is_right(root, base, head, plan, chunk_budget(num_ctx, 64))
        again = build_plan(settings_, alone, {}, num_ctx=num_ctx, num_predict=64)
        assert again == plan  # deterministic
        paths = {f.path for f in plan.files} | {s.path for s in plan.skipped}
        changed = {p.decode() for p in git(root, "diff", "--name-only", "-z", "-M", base, head).split(b"\0") if p}
        assert paths == changed


# --- size ------------------------------------------------------------------------------------

BIG_SCRIPT = r"""
import json, resource, sys
from reviewer.settings.slices import DiffSettings
from reviewer.plan import build as plan_module
from reviewer.plan.build import build_plan
files, per = 40, 5000
with open(sys.argv[1], "w") as out:
    for i in range(files):
        out.write(f"diff --git a/m{i}.py b/m{i}.py\nnew file mode 100644\n--- /dev/null\n"
                  f"+++ b/m{i}.py\n@@ -0,0 +1,{per} @@\n")
        out.write("".join(f"+value_{j} = compute({j}, 'some text here')\n" for j in range(per)))
plan = build_plan(DiffSettings(diff_file=sys.argv[1]), environ={})
lines = sum(len(cf.added_lines) for c in plan.chunks for cf in c.files)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
print(json.dumps({"lines": lines, "files": len(plan.files), "peak_kib": peak}))
"""


@pytest.mark.slow
def test_200k_line_diff_fits_in_memory(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", BIG_SCRIPT, str(tmp_path / "big.diff")],
        capture_output=True,
        check=True,
        text=True,
    )
    result = json.loads(out.stdout)
    assert result["lines"] == 200_000
    assert result["files"] == 40
    assert result["peak_kib"] < 500 * 1024
