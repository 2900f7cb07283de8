"""A corpus of labelled changes, loaded and checked: each case is a directory holding
`case.toml` (the labels), `base/` (the files before the change) and `head/` (after it). A bad
case is a one-line CorpusError naming the case and the field; nothing is reviewed until every
case reads (docs/evaluation.md describes the format)."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from reviewer.errors import ReviewerError, first_problem
from reviewer.models import Strict

CASE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
LABEL_FILE = "case.toml"
# git keeps no empty directory: an empty base/ (a change that only adds files) holds this file,
# which is not part of the case's tree (a missing base/ or head/ reads as empty too).
PLACEHOLDER = ".gitkeep"
_ENTRIES = frozenset({LABEL_FILE, "base", "head"})
FORMAT_HINT = "see docs/evaluation.md, `The corpus format`"


class CorpusError(ReviewerError):
    """A corpus directory that cannot be evaluated: exit 2, one line naming the case."""


class Defect(Strict):
    """One labelled defect: where it is (a path, a side and a range of lines) and what."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    defect_class: str = Field(alias="class", min_length=1)
    path: str = Field(min_length=1)
    side: Literal["new", "old"]  # new: lines of head/ the change adds; old: lines it removes
    lines: tuple[int, int]
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _range(self) -> Defect:
        first, last = self.lines
        if first < 1 or last < first:
            shown = [*self.lines]
            raise ValueError(f"must be [first, last] with 1 <= first <= last, not {shown}")
        return self


class CaseLabel(Strict):
    """The contents of case.toml."""

    summary: str = Field(min_length=1)
    language: str = Field(min_length=1)
    kind: Literal["defect", "clean"]
    note: str | None = None
    defects: tuple[Defect, ...] = ()

    @model_validator(mode="after")
    def _kind_matches(self) -> CaseLabel:
        if self.kind == "defect" and not self.defects:
            raise ValueError('kind = "defect" needs at least one [[defects]] entry')
        if self.kind == "clean" and self.defects:
            raise ValueError('kind = "clean" takes no [[defects]] entry')
        return self


@dataclass(frozen=True)
class Case:
    """One case: its id, labels and both trees (repository-relative path -> bytes)."""

    id: str
    label: CaseLabel
    base: dict[str, bytes]
    head: dict[str, bytes]


@dataclass(frozen=True)
class Corpus:
    """Every case of a corpus, in id order, and the corpus's content hash."""

    root: Path
    cases: tuple[Case, ...]
    sha256: str


def shipped_corpus() -> Path:
    """The corpus that ships with reviewer (package data)."""
    return Path(str(resources.files("reviewer.eval").joinpath("corpus")))


def load_corpus(root: Path) -> Corpus:
    """Read and check every case under `root`; CorpusError at the first bad one."""
    if not root.is_dir():
        raise CorpusError(f"corpus {root} is not a directory", "pass --corpus DIR")
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not dirs:
        raise CorpusError(f"corpus {root} holds no case directory", FORMAT_HINT)
    cases = tuple(load_case(d) for d in dirs)
    return Corpus(root=root, cases=cases, sha256=corpus_hash(root, [d.name for d in dirs]))


def load_case(directory: Path) -> Case:
    case_id = directory.name
    if not CASE_ID.fullmatch(case_id):
        raise _error(case_id, "the directory name is not a case id ([a-z0-9][a-z0-9-]*)")
    extra = sorted(p.name for p in directory.iterdir() if p.name not in _ENTRIES)
    if extra:
        holds = ", ".join(sorted(_ENTRIES))
        raise _error(case_id, f"unexpected entry `{extra[0]}` (a case holds {holds})")
    label = _read_label(case_id, directory / LABEL_FILE)
    if not (directory / "base").exists() and not (directory / "head").exists():
        raise _error(case_id, "neither base/ nor head/ exists")
    base, head = _tree(case_id, directory, "base"), _tree(case_id, directory, "head")
    case = Case(case_id, label, base, head)
    for i, defect in enumerate(label.defects):
        _check_defect_lines(case, i, defect)
    return case


def _read_label(case_id: str, path: Path) -> CaseLabel:
    if not path.is_file():
        raise _error(case_id, f"{LABEL_FILE} is missing")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise _error(case_id, f"cannot read {LABEL_FILE}: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise _error(case_id, f"{LABEL_FILE} is not valid TOML: {e}") from None
    try:
        return CaseLabel.model_validate(data)
    except ValidationError as e:
        raise _error(case_id, f"{LABEL_FILE}: {first_problem(e, CaseLabel)}") from None


def _tree(case_id: str, directory: Path, side: str) -> dict[str, bytes]:
    """The files of base/ or head/ by repository-relative path. A missing one is empty: git
    keeps no empty directory and a wheel drops the .gitkeep that stands for one. Symbolic links
    are refused (a link could carry a file from outside the corpus to the model), and so is a
    `.git` entry (written into the case's repository it would be git's own configuration and
    hooks)."""
    top = directory / side
    if top.is_symlink() or (top.exists() and not top.is_dir()):
        raise _error(case_id, f"{side}/ is not a directory")
    files: dict[str, bytes] = {}
    for path in sorted(top.rglob("*")) if top.is_dir() else ():
        rel = path.relative_to(top).as_posix()
        if path.is_symlink():
            raise _error(case_id, f"{side}/{rel} is a symbolic link")
        if any(part.casefold() == ".git" for part in path.relative_to(top).parts):
            raise _error(case_id, f"{side}/{rel}: a case's tree may not hold a .git entry")
        if path.is_file() and rel != PLACEHOLDER:
            files[rel] = path.read_bytes()
    return files


def _check_defect_lines(case: Case, index: int, defect: Defect) -> None:
    """The labelled lines exist in the file on the defect's side (head/ for new, base/ for
    old); whether the change adds or removes them is checked against the diff (eval.repo)."""
    tree, side = (case.head, "head") if defect.side == "new" else (case.base, "base")
    where = f"{LABEL_FILE}: defects.{index}"
    if defect.path not in tree:
        raise _error(case.id, f"{where}.path: `{defect.path}` is not a file of {side}/")
    count = len(tree[defect.path].splitlines())
    if defect.lines[1] > count:
        raise _error(
            case.id,
            f"{where}.lines: {[*defect.lines]} is outside {side}/{defect.path} ({count} lines)",
        )


def corpus_hash(root: Path, case_dirs: list[str]) -> str:
    """sha256 over every file of the cases, in sorted order of its corpus-relative path: per
    file the path, a NUL, the size in decimal, a NUL, then its bytes."""
    digest = hashlib.sha256()
    files = sorted(
        (p.relative_to(root).as_posix(), p)
        for name in case_dirs
        for p in (root / name).rglob("*")
        if p.is_file()
    )
    for rel, path in files:
        data = path.read_bytes()
        # NUL as bytes: the path and size are fields, not text to show.
        digest.update(rel.encode() + b"\0" + str(len(data)).encode() + b"\0")
        digest.update(data)
    return digest.hexdigest()


def _error(case_id: str, problem: str) -> CorpusError:
    return CorpusError(f"corpus case `{case_id}`: {problem}", FORMAT_HINT)
