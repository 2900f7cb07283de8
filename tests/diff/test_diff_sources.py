"""The diff sources on real repositories: ranges from the merge base, the index, patch files
and stdin, default bases in and out of GitHub Actions, and each bad input's DiffError."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from reviewer.diff.parse import parse_diff
from reviewer.diff.select import default_base, default_head, select_source
from reviewer.diff.sources import GitRangeSource, PatchFileSource, StagedSource
from reviewer.errors import DiffError, UsageError
from reviewer.models import LineKind
from reviewer.settings.slices import DiffSettings
from tests.diff.gitrepo_helpers import GitRepo


@pytest.fixture
def forked(tmp_path: Path) -> tuple[GitRepo, str]:
    """main has a.py; branch `feature` adds b.py; main moves on with c.py afterwards."""
    repo = GitRepo(tmp_path / "r")
    repo.write("a.py", "a = 1\n")
    fork = repo.commit("fork point")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("b.py", "b = 2\n")
    repo.commit("feature")
    repo.git("checkout", "-q", "main")
    repo.write("c.py", "c = 3\n")
    repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")
    return repo, fork


def test_range_is_from_the_merge_base(forked: tuple[GitRepo, str]) -> None:
    repo, fork = forked
    raw = GitRangeSource(repo.root, "main", "feature").read()
    assert [f.path for f in parse_diff(raw.text)] == ["b.py"]  # c.py is main's, not the PR's
    assert raw.base == fork
    assert raw.head == repo.git("rev-parse", "feature").decode().strip()


def test_unknown_ref_and_not_a_repo(forked: tuple[GitRepo, str], tmp_path: Path) -> None:
    repo, _ = forked
    with pytest.raises(DiffError, match="unknown ref 'nope'"):
        GitRangeSource(repo.root, "nope", "HEAD").read()
    with pytest.raises(DiffError, match="unknown ref '--output=/tmp/x'"):
        GitRangeSource(repo.root, "--output=/tmp/x", "HEAD").read()
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(DiffError, match="is not a git repository"):
        GitRangeSource(plain, "main", "HEAD").read()
    with pytest.raises(DiffError, match="is not a directory"):
        GitRangeSource(tmp_path / "missing", "main", "HEAD").read()


def test_unrelated_histories(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path)
    repo.write("a", "1\n")
    repo.commit()
    repo.git("checkout", "-q", "--orphan", "other")
    repo.write("b", "2\n")
    repo.commit()
    with pytest.raises(DiffError, match="no common ancestor"):
        GitRangeSource(repo.root, "main", "other").read()


def test_default_base_from_the_event_then_base_ref(
    forked: tuple[GitRepo, str], tmp_path: Path
) -> None:
    repo, fork = forked
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": fork}}}))
    assert default_base(repo.root, {"GITHUB_EVENT_PATH": str(event)}) == fork
    push_event = tmp_path / "push.json"
    push_event.write_text(json.dumps({"ref": "refs/heads/main"}))
    env = {"GITHUB_EVENT_PATH": str(push_event), "GITHUB_BASE_REF": "main"}
    assert default_base(repo.root, env) == "origin/main"


def test_in_a_pull_request_the_head_is_the_pr_head_not_the_merge_commit(
    forked: tuple[GitRepo, str], tmp_path: Path
) -> None:
    repo, fork = forked
    feature = repo.git("rev-parse", "feature").decode().strip()
    main = repo.git("rev-parse", "main").decode().strip()
    repo.git("checkout", "-q", "--detach", "main")
    repo.git("merge", "-q", "--no-edit", "feature")  # what actions/checkout checks out
    event = tmp_path / "event.json"
    pr = {"base": {"sha": main}, "head": {"sha": feature}}
    event.write_text(json.dumps({"pull_request": pr}))
    source = select_source(DiffSettings(repo=repo.root), {"GITHUB_EVENT_PATH": str(event)})
    raw = source.read()
    assert (raw.base, raw.head) == (fork, feature)
    assert [f.path for f in parse_diff(raw.text)] == ["b.py"]
    assert default_head({}) == "HEAD"


def test_default_base_locally(forked: tuple[GitRepo, str], tmp_path: Path) -> None:
    repo, _ = forked
    with pytest.raises(UsageError, match="no base to diff against"):
        default_base(repo.root, {})
    clone = tmp_path / "clone"
    repo.git("clone", "-q", str(repo.root), str(clone))
    assert default_base(clone, {}) == "origin/HEAD"
    settings = DiffSettings(repo=clone)
    # A fresh clone's HEAD is origin/HEAD: refused, not reviewed as an empty diff.
    with pytest.raises(UsageError, match="are the same commit") as e:
        select_source(settings, {})
    assert "--base REF" in (e.value.hint or "")
    (clone / "c.py").write_text("c = 1\n")  # local work on top: now there is a review
    repo.git("-C", str(clone), "add", "c.py")
    repo.git("-C", str(clone), "commit", "-qm", "local work")
    raw = select_source(settings, {}).read()
    assert [f.path for f in parse_diff(raw.text)] == ["c.py"]


def test_conflicting_sources() -> None:
    for settings in (
        DiffSettings(staged=True, diff_file="x.diff"),
        DiffSettings(staged=True, base="main"),
        DiffSettings(diff_file="-", head="feature"),
    ):
        with pytest.raises(UsageError, match="choose one diff source"):
            select_source(settings, {})


def test_staged_source(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path)
    repo.write("first.py", "x = 1\n")
    repo.git("add", "first.py")
    raw = StagedSource(repo.root).read()  # no HEAD yet: against the empty tree
    assert raw.base is None
    assert [f.path for f in parse_diff(raw.text)] == ["first.py"]
    head = repo.commit()
    repo.write("first.py", "x = 1\ny = 2\n")
    repo.git("add", "first.py")
    repo.write("first.py", "x = 1\ny = 2\nunstaged = 3\n")
    raw = StagedSource(repo.root).read()
    files = parse_diff(raw.text)
    assert raw.base == head
    assert [(f.path, f.added) for f in files] == [("first.py", 1)]
    heads = StagedSource(repo.root).file_heads(["first.py"], 5)
    assert heads == {"first.py": "x = 1\ny = 2"}  # the index, not the working tree


def test_patch_file_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    diff = tmp_path / "p.diff"
    diff.write_bytes(b"--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n x\n+caf\xe9\n")
    raw = PatchFileSource(str(diff), tmp_path).read()
    assert raw.text.endswith("+caf\ufffd\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(diff.read_bytes())))
    assert PatchFileSource("-", tmp_path).read().text == raw.text
    with pytest.raises(DiffError, match="cannot read --diff-file .*missing.diff"):
        PatchFileSource(str(tmp_path / "missing.diff"), tmp_path).read()
    with pytest.raises(DiffError, match="cannot read --diff-file"):
        PatchFileSource(str(tmp_path), tmp_path).read()


def test_head_blobs_for_the_generated_check(forked: tuple[GitRepo, str]) -> None:
    repo, _ = forked
    repo.write("gen.py", "# @generated by a tool\n" + "x = 1\n" * 20)
    repo.commit()
    source = GitRangeSource(repo.root, "main", "feature")
    source.read()
    heads = source.file_heads(["gen.py", "b.py", "no such file", "a b/\u00e9.py"], 2)
    assert heads == {"gen.py": "# @generated by a tool\nx = 1", "b.py": "b = 2"}


def test_config_comes_from_the_base_revision(forked: tuple[GitRepo, str]) -> None:
    repo, _ = forked
    repo.git("checkout", "-q", "main")
    repo.write(".reviewer.toml", 'exclude = ["vendorish/**"]\n')
    repo.commit("base config")
    repo.git("checkout", "-q", "feature")
    repo.write(".reviewer.toml", 'exclude = ["**"]\n')  # the PR tries to switch review off
    repo.commit("pr config")
    source = GitRangeSource(repo.root, "main", "feature")
    source.read()
    assert source.config_text(".reviewer.toml") == 'exclude = ["vendorish/**"]\n'
    assert source.config_text("pyproject.toml") is None


@pytest.mark.parametrize("context", [0, 1, 3, 5])
def test_context_lines_around_each_change(tmp_path: Path, context: int) -> None:
    """--context-lines N: git shows N unchanged lines on each side of a change, for a range
    and for the index alike (the same N git's own --unified=N gives)."""
    repo = GitRepo(tmp_path / "r")
    repo.write("m.py", "".join(f"line {i}\n" for i in range(1, 21)))
    base = repo.commit()
    repo.write("m.py", "".join(f"line {i}\n" if i != 10 else "changed\n" for i in range(1, 21)))
    repo.commit()
    ranged = parse_diff(GitRangeSource(repo.root, base, "HEAD", context).read().text)
    repo.write("m.py", "".join(f"line {i}\n" for i in range(1, 21)))
    repo.git("add", "m.py")
    staged = parse_diff(StagedSource(repo.root, context).read().text)
    for files in (ranged, staged):
        (hunk,) = files[0].hunks
        shown = [ln.new_no for ln in hunk.lines if ln.kind is LineKind.CONTEXT]
        assert shown == [*range(10 - context, 10), *range(11, 11 + context)]


def test_context_lines_reach_the_source_from_the_settings(forked: tuple[GitRepo, str]) -> None:
    repo, _ = forked
    source = select_source(DiffSettings(repo=repo.root, base="main", context_lines=0), {})
    assert isinstance(source, GitRangeSource) and source.context_lines == 0
    staged = select_source(DiffSettings(repo=repo.root, staged=True, context_lines=7), {})
    assert isinstance(staged, StagedSource) and staged.context_lines == 7
