"""Parsing proven against real git: for every awkward kind of change a repository produces,
the per-file counts equal `git diff --numstat`, and every added line's new number points at
that exact line of the file at head."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.diff.parse import parse_diff, parse_raw
from reviewer.diff.sources import GitRangeSource
from reviewer.models import FileDiff, FileStatus, LineKind
from tests.diff.gitrepo_helpers import GitRepo, head_lines

BIG = 30_000


def _base_tree(repo: GitRepo) -> None:
    repo.write("modified.py", "".join(f"line {i}\n" for i in range(1, 40)))
    repo.write("deleted.txt", "gone\nsoon\n")
    repo.write("renamed_old.py", "".join(f"keep {i}\n" for i in range(20)))
    repo.write("moved_old.py", "".join(f"edit {i}\n" for i in range(20)))
    repo.write("mode.sh", "echo hi\n", mode=0o644)
    repo.write("image.bin", b"\x00\x01\x02binary\x00")
    repo.write("crlf.txt", b"one\r\ntwo\r\nthree\r\n")
    repo.write("noeol.txt", b"a\nb")
    repo.write("latin1.txt", "caf\xe9\n".encode("latin-1") * 3)
    repo.write("dir with space/file name.txt", "x\n")
    repo.write("ünïcødé/名前.py", "print(1)\n")
    repo.write("big.txt", "".join(f"{i}\n" for i in range(BIG)))
    repo.write("odd.txt", "a\x0cb\nc\u2028d\ne\rf\n")


def _head_tree(repo: GitRepo) -> None:
    lines = [f"line {i}\n" for i in range(1, 40)]
    lines[4] = "changed 5\n"
    lines.insert(20, "inserted\n")
    del lines[30]
    repo.write("modified.py", "".join(lines))
    repo.remove("deleted.txt")
    repo.git("mv", "renamed_old.py", "renamed_new.py")
    repo.git("mv", "moved_old.py", "moved_new.py")
    repo.write("moved_new.py", "".join(f"edit {i}\n" for i in range(19)) + "edited 19\n")
    (repo.root / "mode.sh").chmod(0o755)
    repo.write("image.bin", b"\x00\x01\x02binary changed\x00")
    repo.write("crlf.txt", b"one\r\nTWO\r\nthree\r\nfour\r\n")
    repo.write("noeol.txt", b"a\nb\nc")
    repo.write("latin1.txt", "caf\xe9\n".encode("latin-1") * 3 + "na\xefve\n".encode("latin-1"))
    repo.write("dir with space/file name.txt", "x\ny\n")
    repo.write("ünïcødé/名前.py", "print(1)\nprint('名前')\n")
    repo.write('quote"tab\there.txt', "quoted\n")
    repo.write("new line\nname.txt", "newline in name\n")
    repo.write("empty.txt", "")
    repo.write("long.txt", "x" * 100_000 + "\n" + "y\n")
    repo.write("big.txt", "".join(f"{i}\n" for i in range(BIG)).replace("\n", " changed\n"))
    repo.write("odd.txt", "a\x0cb\nc\u2028d\ne\rf\ng\x1b[31mred\n")
    repo.write("added.py", "def f():\n    return 1\n")


@pytest.fixture(scope="module")
def awkward(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, str, str, dict[str, FileDiff]]:
    repo = GitRepo(tmp_path_factory.mktemp("awkward"))
    _base_tree(repo)
    sub = GitRepo(repo.root / "sub")  # an embedded repository: recorded as a gitlink
    sub.write("s", "1\n")
    sub.commit()
    base = repo.commit("base")
    _head_tree(repo)
    sub.write("s", "2\n")
    sub.commit()
    head = repo.commit("head")
    raw = GitRangeSource(repo.root, base, head).read()
    files = {f.path: f for f in parse_raw(raw)}
    return repo, base, head, files


def test_every_path_is_found(awkward: tuple[GitRepo, str, str, dict[str, FileDiff]]) -> None:
    repo, base, head, files = awkward
    assert set(files) == set(repo.numstat(base, head))
    assert 'quote"tab\there.txt' in files
    assert "new line\nname.txt" in files
    assert "ünïcødé/名前.py" in files
    assert "dir with space/file name.txt" in files


def test_counts_equal_numstat(awkward: tuple[GitRepo, str, str, dict[str, FileDiff]]) -> None:
    repo, base, head, files = awkward
    numstat = repo.numstat(base, head)
    assert numstat  # the comparison below must compare something
    for path, counts in numstat.items():
        f = files[path]
        if counts is None:
            assert f.is_binary, path
        else:
            assert (f.added, f.removed) == counts, path


def test_added_lines_point_at_head(awkward: tuple[GitRepo, str, str, dict[str, FileDiff]]) -> None:
    repo, _, head, files = awkward
    checked = 0
    for f in files.values():
        if f.status is FileStatus.DELETED or f.is_binary or f.is_submodule:
            continue
        at_head = head_lines(repo.show(head, f.path))
        for hunk in f.hunks:
            for line in hunk.lines:
                if line.kind is not LineKind.REMOVED:
                    assert line.new_no is not None
                    assert at_head[line.new_no - 1] == line.text, (f.path, line.new_no)
                    checked += line.kind is LineKind.ADDED
    assert checked > BIG  # the big hunk was checked line by line


def test_statuses_and_flags(awkward: tuple[GitRepo, str, str, dict[str, FileDiff]]) -> None:
    files = awkward[3]
    assert files["added.py"].status is FileStatus.ADDED and files["added.py"].old_path is None
    assert files["deleted.txt"].status is FileStatus.DELETED
    assert files["deleted.txt"].removed == 2
    pure = files["renamed_new.py"]
    assert (pure.status, pure.old_path, pure.hunks) == (FileStatus.RENAMED, "renamed_old.py", ())
    moved = files["moved_new.py"]
    assert moved.status is FileStatus.RENAMED and moved.old_path == "moved_old.py"
    assert (moved.added, moved.removed) == (1, 1)
    mode = files["mode.sh"]
    assert (mode.old_mode, mode.new_mode, mode.hunks) == ("100644", "100755", ())
    assert files["image.bin"].is_binary
    assert files["sub"].is_submodule
    empty = files["empty.txt"]
    assert (empty.status, empty.added, empty.hunks) == (FileStatus.ADDED, 0, ())


def test_line_endings_and_encodings(awkward: tuple[GitRepo, str, str, dict[str, FileDiff]]) -> None:
    files = awkward[3]
    crlf = [ln.text for h in files["crlf.txt"].hunks for ln in h.lines if ln.kind is LineKind.ADDED]
    assert crlf == ["TWO", "four"]
    noeol = files["noeol.txt"]
    assert (noeol.added, noeol.removed) == (2, 1)
    latin = files["latin1.txt"]
    assert [ln.text for ln in latin.hunks[0].lines if ln.kind is LineKind.ADDED] == ["na\ufffdve"]
    long = files["long.txt"]
    assert len(long.hunks[0].lines[0].text) == 100_000
    odd = [ln for h in files["odd.txt"].hunks for ln in h.lines if ln.kind is LineKind.ADDED]
    assert [(ln.new_no, ln.text) for ln in odd] == [(4, "g\x1b[31mred")]


def test_copies_with_find_copies(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path)
    repo.write("orig.py", "".join(f"x{i}\n" for i in range(30)))
    base = repo.commit()
    repo.write("copy.py", "".join(f"x{i}\n" for i in range(30)) + "extra\n")
    repo.write("orig.py", "".join(f"x{i}\n" for i in range(30)) + "orig extra\n")
    head = repo.commit()
    text = repo.git(
        "diff", "-C", "--find-copies-harder", "--src-prefix=a/", "--dst-prefix=b/", base, head
    ).decode()
    files = {f.path: f for f in parse_diff(text)}
    copy = files["copy.py"]
    assert (copy.status, copy.old_path, copy.added, copy.removed) == (
        FileStatus.COPIED,
        "orig.py",
        1,
        0,
    )
    assert copy.hunks[0].lines[-1].new_no == 31
    assert files["orig.py"].status is FileStatus.MODIFIED
