"""A bad corpus through the real CLI: exit 2, one error line naming the case and the field,
no traceback, and no request to the model server. Then the loader's own guarantees: the
content hash, symbolic links refused, the labels checked against the real diff."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reviewer.eval.corpus import CorpusError, load_corpus
from tests.eval.scripted import serve_scripted, silent
from tests.eval.test_eval_cli import CORPUS, reviewer_eval


def copy_corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(CORPUS, root)
    return root


def edit_label(root: Path, case: str, old: str, new: str) -> None:
    path = root / case / "case.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


BAD: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing case.toml": (
        lambda r: (r / "go-clean-rename" / "case.toml").unlink(),
        "corpus case `go-clean-rename`: case.toml is missing",
    ),
    "bad side": (
        lambda r: edit_label(r, "py-sql-injection", 'side = "new"', 'side = "middle"'),
        "corpus case `py-sql-injection`: case.toml: defects.0.side: 'middle' is not one of: "
        "new or old",
    ),
    "lines outside the file": (
        lambda r: edit_label(r, "py-sql-injection", "lines = [45, 49]", "lines = [45, 90]"),
        "corpus case `py-sql-injection`: case.toml: defects.0.lines: [45, 90] is outside "
        "head/app/orders.py (49 lines)",
    ),
    "a reversed range": (
        lambda r: edit_label(r, "py-sql-injection", "lines = [45, 49]", "lines = [49, 45]"),
        "corpus case `py-sql-injection`: case.toml: defects.0: must be [first, last] with "
        "1 <= first <= last, not [49, 45]",
    ),
    "an unknown key": (
        lambda r: edit_label(r, "go-clean-rename", "kind =", "severity = 1\nkind ="),
        "corpus case `go-clean-rename`: case.toml: unknown key `severity`",
    ),
    "a defect in a clean case": (
        lambda r: edit_label(r, "py-sql-injection", 'kind = "defect"', 'kind = "clean"'),
        'corpus case `py-sql-injection`: case.toml: (top level): kind = "clean" takes no '
        "[[defects]] entry",
    ),
    "neither base/ nor head/": (
        lambda r: [shutil.rmtree(r / "go-clean-rename" / side) for side in ("base", "head")],
        "corpus case `go-clean-rename`: neither base/ nor head/ exists",
    ),
    "a head/ that is a file": (
        lambda r: [shutil.rmtree(r / "go-clean-rename" / "head"),
                   (r / "go-clean-rename" / "head").write_text("x", encoding="utf-8")],
        "corpus case `go-clean-rename`: head/ is not a directory",
    ),
    "a path of the other side": (
        lambda r: edit_label(
            r, "js-upload-two-defects", 'side = "new"\nlines = [22, 22]',
            'side = "old"\nlines = [22, 22]'
        ),
        "corpus case `js-upload-two-defects`: case.toml: defects.0.path: `server/files.js` is "
        "not a file of base/",
    ),
    "a label on no added line": (
        lambda r: edit_label(r, "py-sql-injection", "lines = [45, 49]", "lines = [3, 5]"),
        "corpus case `py-sql-injection`: case.toml: defects.0: lines [3, 5] of "
        "`app/orders.py` hold no line the change adds",
    ),
    "an old label on a kept line": (
        lambda r: edit_label(r, "py-removed-admin-check", "lines = [23, 24]", "lines = [23, 25]"),
        "corpus case `py-removed-admin-check`: case.toml: defects.0: line 25 of "
        "base/app/admin.py is not a line the change removes",
    ),
    "a case id with capitals": (
        lambda r: (r / "go-clean-rename").rename(r / "Go-Clean"),
        "corpus case `Go-Clean`: the directory name is not a case id ([a-z0-9][a-z0-9-]*)",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_corpus_is_exit_2_with_one_line_and_no_model_call(
    name: str, server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    spoil, message = BAD[name]
    root = copy_corpus(tmp_path)
    spoil(root)
    serve_scripted(server, silent)
    result = reviewer_eval(server, env, corpus=root)
    assert result.returncode == 2, result.stderr
    errors = [ln for ln in result.stderr.splitlines() if not ln.startswith("hint:")]
    assert errors == [f"reviewer: error: {message}"]
    assert not server.log  # nothing was sent: the corpus is checked before the model


def test_a_corpus_that_is_not_a_directory(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    result = reviewer_eval(server, env, corpus=tmp_path / "nowhere")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"reviewer: error: corpus {tmp_path / 'nowhere'} is not a directory"
    )


def test_a_symbolic_link_in_a_tree_is_refused(tmp_path: Path) -> None:
    """A link would carry a file from outside the corpus (a key, /etc/shadow) to the model."""
    root = copy_corpus(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the model\n", encoding="utf-8")
    (root / "go-clean-rename" / "head" / "notes.txt").symlink_to(secret)
    with pytest.raises(CorpusError, match=r"head/notes.txt is a symbolic link"):
        load_corpus(root)


def test_a_git_directory_in_a_tree_is_refused(tmp_path: Path) -> None:
    """Copied into the case's repository it would be git's own config (an fsmonitor or
    external diff program) and hooks, run by the harness's own git commands."""
    root = copy_corpus(tmp_path)
    hooks = root / "go-clean-rename" / "head" / ".git" / "hooks"
    hooks.mkdir(parents=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\ntouch /tmp/owned\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"head/\.git: a case.s tree may not hold a .git entry"):
        load_corpus(root)


def test_an_ignored_file_is_still_part_of_the_case(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    """The case's own .gitignore does not keep a labelled file out of its repository."""
    root = copy_corpus(tmp_path)
    (root / "py-sql-injection" / "head" / ".gitignore").write_text("app/\n", encoding="utf-8")
    (root / "py-sql-injection" / "base" / ".gitignore").write_text("app/\n", encoding="utf-8")
    serve_scripted(server, silent)
    result = reviewer_eval(server, env, corpus=root)
    assert result.returncode == 0, result.stderr


def test_the_hash_covers_every_byte_and_name_and_nothing_else(tmp_path: Path) -> None:
    root = copy_corpus(tmp_path)
    first = load_corpus(root).sha256
    assert load_corpus(copy_corpus(tmp_path / "again")).sha256 == first  # not the location
    (root / "README.md").write_text("a note beside the cases\n", encoding="utf-8")
    assert load_corpus(root).sha256 == first  # only the cases count
    target = root / "go-clean-rename" / "head" / "store" / "cache.go"
    target.write_bytes(target.read_bytes().replace(b"entries", b"entriez", 1))
    changed = load_corpus(root).sha256
    assert changed != first
    target.rename(target.with_name("cache2.go"))
    assert load_corpus(root).sha256 not in (first, changed)


def test_an_empty_base_holds_a_placeholder_that_is_not_part_of_the_tree(tmp_path: Path) -> None:
    root = copy_corpus(tmp_path)
    case = root / "js-upload-two-defects"
    shutil.rmtree(case / "base")
    (case / "base").mkdir()
    (case / "base" / ".gitkeep").write_bytes(b"")
    shutil.rmtree(case / "head" / "server")
    (case / "head" / "server").mkdir()
    shutil.copy(CORPUS / "js-upload-two-defects" / "head" / "server" / "files.js",
                case / "head" / "server" / "files.js")  # fmt: skip
    loaded = {c.id: c for c in load_corpus(root).cases}["js-upload-two-defects"]
    assert loaded.base == {} and list(loaded.head) == ["server/files.js"]
    # A wheel drops the placeholder (and git the empty directory): a missing base/ is empty.
    shutil.rmtree(case / "base")
    again = {c.id: c for c in load_corpus(root).cases}["js-upload-two-defects"]
    assert again.base == {} and again.head == loaded.head
