"""diff/binary.py on real git repositories: which changed files are binary by their content
(never by `.gitattributes`, which the pull request writes), which of them were binary at base
already, and the pathspecs that keep them out of the text diff. (End to end through the CLI:
tests/test_scope_attacks.py; these are the fast checks mutation testing runs.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from reviewer.diff.binary import (
    NON_TEXT_SHARE,
    SAMPLE_BYTES,
    RawEntry,
    find_binary,
    git_at_least,
    raw_entries,
)
from reviewer.models import FileStatus
from tests.diff.gitrepo_helpers import GitRepo

BINARY = bytes(range(256)) * 4  # a NUL and mostly control or non-UTF-8 bytes
TEXT = "".join(f"line {i}\n" for i in range(50))


def changes(tmp_path: Path, base: dict[str, bytes | str], head: dict[str, bytes | str | None]):
    """A repository with `base` committed, then `head` applied (None deletes a file); returns
    the repository and the raw entries of base..head."""
    repo = GitRepo(tmp_path / "repo")
    for path, content in base.items():
        repo.write(path, content)
    first = repo.commit("base")
    for path, content in head.items():
        if content is None:
            repo.remove(path)
        else:
            repo.write(path, content)
    second = repo.commit("head")
    return repo, raw_entries(repo.root, [f"{first}..{second}"])


def test_raw_entries_name_each_change_with_its_status_and_both_paths(tmp_path: Path) -> None:
    base = {"keep.txt": TEXT, "gone.txt": "bye\n", "old_name.txt": TEXT + "tail\n"}
    repo, _ = changes(tmp_path, base, {})
    repo.git("mv", "old_name.txt", "new_name.txt")
    repo.write("keep.txt", TEXT + "more\n")
    repo.write("new.txt", "hello\n")
    repo.remove("gone.txt")
    repo.commit("head2")
    entries = {e.status: e for e in raw_entries(repo.root, ["HEAD~1..HEAD"])}
    assert sorted(entries) == ["A", "D", "M", "R"]
    assert (entries["R"].old_path, entries["R"].new_path) == ("old_name.txt", "new_name.txt")
    assert entries["M"].old_path == entries["M"].new_path == "keep.txt"
    assert entries["A"].new_path == "new.txt" and entries["A"].old_sha == "0" * 40
    assert entries["D"].old_path == "gone.txt" and entries["D"].new_mode == "000000"
    assert all(len(e.old_sha) == len(e.new_sha) == 40 for e in entries.values())
    assert entries["M"].old_mode == entries["M"].new_mode == "100644"


def test_a_new_binary_is_binary_but_not_at_base(tmp_path: Path) -> None:
    repo, entries = changes(tmp_path, {"a.txt": TEXT}, {"img.bin": BINARY})
    found = find_binary(repo.root, entries)
    (f,) = found.files
    assert (f.path, f.old_path, f.status, f.is_binary) == ("img.bin", None, FileStatus.ADDED, True)
    assert (f.old_mode, f.new_mode) == (None, "100644")
    assert found.at_base == frozenset()


def test_a_binary_modified_or_deleted_was_binary_at_base(tmp_path: Path) -> None:
    base = {"img.bin": BINARY, "old.bin": BINARY}
    repo, entries = changes(tmp_path, base, {"img.bin": BINARY[::-1], "old.bin": None})
    found = find_binary(repo.root, entries)
    by_path = {f.path: f for f in found.files}
    assert by_path["img.bin"].status is FileStatus.MODIFIED
    assert by_path["old.bin"].status is FileStatus.DELETED
    assert by_path["old.bin"].old_path == "old.bin" and by_path["old.bin"].new_mode is None
    assert found.at_base == {"img.bin", "old.bin"}


def test_text_made_binary_by_the_change_is_binary_but_not_at_base(tmp_path: Path) -> None:
    repo, entries = changes(tmp_path, {"data.txt": TEXT}, {"data.txt": BINARY})
    found = find_binary(repo.root, entries)
    assert [f.path for f in found.files] == ["data.txt"]
    assert found.at_base == frozenset()


def test_a_nul_planted_in_text_keeps_it_text(tmp_path: Path) -> None:
    planted = (TEXT + "x\0y\n").encode()
    repo, entries = changes(tmp_path, {"code.py": TEXT}, {"code.py": planted, "new.py": planted})
    assert find_binary(repo.root, entries).files == ()


def share_of_control_bytes(control: int) -> bytes:
    """A blob longer than the sample whose sample holds `control` NULs."""
    return b"\0" * control + b"a" * (SAMPLE_BYTES - control) + b"a" * 1_000


def test_a_tenth_of_control_bytes_is_the_line_between_text_and_binary(tmp_path: Path) -> None:
    at = round(NON_TEXT_SHARE * SAMPLE_BYTES)
    head = {"at.dat": share_of_control_bytes(at), "below.dat": share_of_control_bytes(at - 1)}
    repo, entries = changes(tmp_path, {"a.txt": TEXT}, head)
    assert [f.path for f in find_binary(repo.root, entries).files] == ["at.dat"]


def test_only_the_first_sample_bytes_are_looked_at(tmp_path: Path) -> None:
    late = b"a" * SAMPLE_BYTES + BINARY * 8
    early = b"a" * 100 + BINARY * 8
    repo, entries = changes(tmp_path, {"a.txt": TEXT}, {"late.dat": late, "early.dat": early})
    assert [f.path for f in find_binary(repo.root, entries).files] == ["early.dat"]


def test_a_renamed_binary_is_kept_out_under_both_names(tmp_path: Path) -> None:
    repo, _ = changes(tmp_path, {"a.bin": BINARY}, {})
    repo.git("mv", "a.bin", "b.bin")
    repo.commit("rename")
    found = find_binary(repo.root, raw_entries(repo.root, ["HEAD~1..HEAD"]))
    (f,) = found.files
    assert (f.path, f.old_path, f.status) == ("b.bin", "a.bin", FileStatus.RENAMED)
    assert found.at_base == {"b.bin"}
    assert found.excludes() == [":(top,exclude,literal)a.bin", ":(top,exclude,literal)b.bin"]


def test_a_copied_binary_is_new_content_under_its_new_name(tmp_path: Path) -> None:
    repo, _ = changes(tmp_path, {"a.bin": BINARY}, {})
    repo.write("c.bin", BINARY)
    repo.commit("copy")
    first = repo.git("rev-parse", "HEAD~1").decode().strip()
    entries = raw_entries(repo.root, ["--find-copies-harder", f"{first}..HEAD"])
    assert [e.status for e in entries] == ["C"]
    (f,) = find_binary(repo.root, entries).files
    assert (f.path, f.old_path, f.status) == ("c.bin", "a.bin", FileStatus.COPIED)


def test_a_submodule_is_never_sampled_as_binary(tmp_path: Path) -> None:
    entry = RawEntry("000000", "160000", "0" * 40, "1" * 40, "A", "sub", "sub")
    assert find_binary(tmp_path, [entry]).files == ()


def test_git_at_least_compares_major_then_minor(tmp_path: Path) -> None:
    out = subprocess.run(["git", "version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"(\d+)\.(\d+)", out)
    assert found is not None
    major, minor = int(found[1]), int(found[2])
    assert git_at_least(tmp_path, major, minor)
    assert git_at_least(tmp_path, major - 1, minor + 50)
    assert not git_at_least(tmp_path, major, minor + 1)
    assert not git_at_least(tmp_path, major + 1, 0)
