"""The shipped evaluation corpus (src/reviewer/eval/corpus) keeps its own format: every case.toml
parses and names known values, the counts the issue asks for hold, and every labelled line is
where the format says it is in the real `git diff` of the case (added lines for `new` defects,
removed lines for `old` ones). Independent of the eval harness: it reads the files itself."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from unidiff import PatchSet

from reviewer.diff.sources import diff_options
from reviewer.settings.config import DEFAULT_CONTEXT_LINES
from tests.diff.gitrepo_helpers import GitRepo

CORPUS = Path(__file__).resolve().parents[2] / "src" / "reviewer" / "eval" / "corpus"
CASE_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
CLASSES = frozenset(
    {
        "injection", "path-traversal", "missing-authorization", "removed-check",
        "unsafe-deserialization", "off-by-one", "null-handling", "resource-leak",
        "race-condition", "error-handling", "hardcoded-secret", "integer-overflow", "ssrf",
        "weak-crypto", "xss",
    }
)  # fmt: skip
# The language groups the issue asks for, each with at least MIN_PER_LANGUAGE cases.
LANGUAGE_GROUPS = {
    "python": {"python"},
    "javascript/typescript": {"javascript", "typescript"},
    "go": {"go"},
    "java": {"java"},
    "c": {"c"},
    "shell/sql": {"shell", "sql"},
}
MIN_DEFECT, MIN_CLEAN, MIN_PER_LANGUAGE, MIN_PER_CLASS = 44, 22, 4, 2
MIN_LINES, MAX_LINES = 10, 80
# Credential shapes that secret scanners treat as live: the corpus's fake secrets match none.
LIVE_SECRET = re.compile(
    r"AKIA[0-9A-Z]{16}(?![0-9A-Z])|gh[pousr]_[A-Za-z0-9]{36}|sk_live_|[sr]k_test_[0-9A-Za-z]{24}"
    r"|xox[abposr]-[0-9A-Za-z-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----|AIza[0-9A-Za-z_-]{35}"
)


class Defect(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    class_: str = Field(alias="class", min_length=1)
    path: str = Field(pattern=r"^[^/\\].*[^/]$")
    side: Literal["new", "old"]
    lines: tuple[int, int]
    note: str = Field(min_length=10)

    @model_validator(mode="after")
    def _ordered(self) -> Defect:
        first, last = self.lines
        if not 1 <= first <= last:
            raise ValueError(f"lines {list(self.lines)}: need 1 <= first <= last")
        if ".." in self.path.split("/"):
            raise ValueError(f"path {self.path!r} leaves the case")
        return self


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: str = Field(min_length=10)
    language: str = Field(pattern=r"^[a-z][a-z0-9+#-]*$")
    kind: Literal["defect", "clean"]
    note: str | None = None
    defects: tuple[Defect, ...] = ()

    @model_validator(mode="after")
    def _kind_matches(self) -> Case:
        if self.kind == "defect" and not self.defects:
            raise ValueError('kind = "defect" needs at least one [[defects]]')
        if self.kind == "clean" and self.defects:
            raise ValueError('kind = "clean" has no [[defects]]')
        return self


@dataclass(frozen=True)
class DiffLines:
    """One file's line numbers in the case's diff, by role."""

    added: frozenset[int]  # new-file numbers
    context: frozenset[int]  # new-file numbers
    removed: frozenset[int]  # old-file numbers


def case_dirs(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.iterdir() if p.is_dir())


def load(case: Path) -> Case:
    return Case.model_validate(tomllib.loads((case / "case.toml").read_text(encoding="utf-8")))


def tree_files(root: Path) -> dict[str, Path]:
    return {p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file()}


def case_diff(case: Path, work: Path) -> dict[str, DiffLines]:
    """Commit base/ then head/ in a real repository and read `git diff base head` as the review
    pipeline asks for it: path -> the lines of that file's diff."""
    repo = GitRepo(work)
    for rel, src in tree_files(case / "base").items():
        repo.write(rel, src.read_bytes())
    base = repo.commit("base")
    for rel in tree_files(case / "base"):
        repo.remove(rel)
    for rel, src in tree_files(case / "head").items():
        repo.write(rel, src.read_bytes())
    head = repo.commit("head")
    text = repo.git(*diff_options(DEFAULT_CONTEXT_LINES), base, head).decode("utf-8")
    files = {}
    for patched in PatchSet(text):
        lines = [line for hunk in patched for line in hunk]
        files[patched.path] = DiffLines(
            added=frozenset(ln.target_line_no for ln in lines if ln.is_added),
            context=frozenset(ln.target_line_no for ln in lines if ln.is_context),
            removed=frozenset(ln.source_line_no for ln in lines if ln.is_removed),
        )
    return files


def label_problems(defect: Defect, files: dict[str, DiffLines]) -> list[str]:
    """Why a defect's label does not fit the diff, if it does not."""
    where = f"{defect.path}:{defect.lines[0]}-{defect.lines[1]} ({defect.side})"
    if defect.path not in files:
        return [f"{where}: the diff does not change {defect.path}"]
    diff = files[defect.path]
    span = set(range(defect.lines[0], defect.lines[1] + 1))
    if defect.side == "old":
        outside = sorted(span - diff.removed)
        return [f"{where}: lines {outside} are not removed by the change"] if outside else []
    problems = []
    outside = sorted(span - diff.added - diff.context)
    if outside:
        problems.append(f"{where}: lines {outside} are neither added nor context in the diff")
    if not span & diff.added:
        problems.append(f"{where}: no line of the range is added by the change")
    return problems


def file_problems(case: Path) -> list[str]:
    problems = [f"{case.name}: no {side}/ directory" for side in ("base", "head")
                if not (case / side).is_dir()]  # fmt: skip
    if problems:
        return problems
    base, head = tree_files(case / "base"), tree_files(case / "head")
    for side, files in (("base", base), ("head", head)):
        for rel, path in files.items():
            text = path.read_text(encoding="utf-8")
            count = len(text.splitlines())
            if not MIN_LINES <= count <= MAX_LINES:
                problems.append(f"{side}/{rel}: {count} lines, not {MIN_LINES}-{MAX_LINES}")
            if LIVE_SECRET.search(text):
                problems.append(f"{side}/{rel}: a credential in a live token's shape")
    if base.keys() == head.keys() and all(
        base[k].read_bytes() == head[k].read_bytes() for k in base
    ):
        problems.append("head/ is the same as base/: there is no change")
    return problems


def case_problems(case: Path, work: Path) -> list[str]:
    """Everything wrong with one case directory (empty when it is well formed)."""
    if not CASE_ID.fullmatch(case.name):
        return [f"{case.name}: not a case id ([a-z0-9][a-z0-9-]*)"]
    try:
        label = load(case)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        return [f"{case.name}/case.toml: {exc}"]
    problems = file_problems(case)
    if problems:
        return problems
    files = case_diff(case, work)
    for defect in label.defects:
        problems += label_problems(defect, files)
    return problems


def shipped() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS}")
    return case_dirs(CORPUS)


@pytest.mark.parametrize("case", case_dirs(CORPUS) if CORPUS.is_dir() else [], ids=lambda p: p.name)
def test_every_case_is_well_formed_and_its_labels_fit_the_real_diff(
    case: Path, tmp_path: Path
) -> None:
    assert case_problems(case, tmp_path / "repo") == []


def test_every_shipped_label_uses_a_listed_class() -> None:
    unknown = {
        (case.name, defect.class_)
        for case in shipped()
        for defect in load(case).defects
        if defect.class_ not in CLASSES
    }
    assert not unknown


def test_the_corpus_is_as_large_and_as_varied_as_the_issue_asks() -> None:
    labels = [load(case) for case in shipped()]
    kinds = Counter(label.kind for label in labels)
    assert kinds["defect"] >= MIN_DEFECT and kinds["clean"] >= MIN_CLEAN, kinds
    languages = Counter(label.language for label in labels)
    per_group = {g: sum(languages[lang] for lang in langs) for g, langs in LANGUAGE_GROUPS.items()}
    assert all(n >= MIN_PER_LANGUAGE for n in per_group.values()), per_group
    assert len([lang for lang, n in languages.items() if n >= MIN_PER_LANGUAGE]) >= 6, languages
    classes = Counter(d.class_ for label in labels for d in label.defects)
    assert {c: classes[c] for c in CLASSES if classes[c] < MIN_PER_CLASS} == {}


def test_no_corpus_file_is_ignored_by_git() -> None:
    """The wheel leaves out what .gitignore names (hatchling reads it), and so does a commit: a
    case with a `build/` or `dist/` directory would ship without its files."""
    files = [p for p in shipped_files() if p.is_file()]
    proc = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"],
        cwd=CORPUS,
        input="\n".join(str(p) for p in files),
        capture_output=True,
        text=True,
    )
    if proc.returncode == 128:
        pytest.skip(f"not in a git work tree: {proc.stderr.strip()}")
    assert proc.stdout.split() == []


def shipped_files() -> list[Path]:
    return sorted(p for case in shipped() for p in case.rglob("*"))


def test_the_readme_table_lists_every_case() -> None:
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, flags=re.M))
    assert rows == {case.name for case in shipped()}


# A deliberately broken copy of a shipped case must be refused, with the reason: the checks above
# would otherwise pass a corpus whose labels point at the wrong lines.
def copy_case(tmp_path: Path, case: str) -> Path:
    source = CORPUS / case
    if not source.is_dir():
        pytest.skip(f"no case {case} in {CORPUS}")
    return Path(shutil.copytree(source, tmp_path / case))


def broken_copy(tmp_path: Path, case: str, old: str, new: str, file: str = "case.toml") -> Path:
    copy = copy_case(tmp_path, case)
    target = copy / file
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {case}/{file}"
    target.write_text(text.replace(old, new), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("case", "old", "new", "reason"),
    [
        # py-sql-injection adds lines 27-34 of app/customers.py; 25-26 are context before them.
        ("py-sql-injection", "lines = [30, 30]", "lines = [25, 26]", "no line of the range"),
        ("py-sql-injection", "lines = [30, 30]", "lines = [12, 12]", "neither added nor context"),
        ("py-sql-injection", "lines = [30, 30]", "lines = [30, 99]", "neither added nor context"),
        ("py-sql-injection", 'side = "new"', 'side = "old"', "not removed by the change"),
        ("py-sql-injection", 'path = "app/customers.py"', 'path = "app/db.py"', "does not change"),
        # py-removed-csrf-check removes lines 15-19 of base's app/middleware.py; 13-14 stay.
        ("py-removed-csrf-check", "lines = [15, 19]", "lines = [13, 19]", "are not removed"),
        ("py-removed-csrf-check", 'side = "old"', 'side = "new"', "neither added nor context"),
        ("py-removed-csrf-check", "lines = [15, 19]", "lines = [19, 15]", "first <= last"),
        ("py-sql-injection", 'kind = "defect"', 'kind = "clean"', "has no [[defects]]"),
        ("py-sql-injection", 'side = "new"', 'side = "added"', "side"),
        ("py-sql-injection", "lines = [30, 30]", 'lines = [30, 30]\nseverity = "high"', "extra"),
    ],
)
def test_a_wrong_label_is_refused_with_its_reason(
    tmp_path: Path, case: str, old: str, new: str, reason: str
) -> None:
    copy = broken_copy(tmp_path, case, old, new)
    assert case_problems(CORPUS / case, tmp_path / "good") == []
    problems = case_problems(copy, tmp_path / "bad")
    assert any(reason in p for p in problems), problems


def test_a_file_out_of_bounds_or_with_a_live_secret_shape_is_refused(tmp_path: Path) -> None:
    rel = "head/app/customers.py"
    long = broken_copy(
        tmp_path / "a", "py-sql-injection", '"""Customer', "#\n" * 60 + '"""Customer', rel
    )
    assert any("lines, not 10-80" in p for p in case_problems(long, tmp_path / "r1"))
    live = broken_copy(
        tmp_path / "b",
        "py-sql-injection",
        "    id: int\n",
        "    id: int\n    KEY = 'AKIA" + "Z" * 16 + "'\n",
        rel,
    )
    assert any("live token" in p for p in case_problems(live, tmp_path / "r2"))


def test_a_case_without_a_change_or_a_bad_id_is_refused(tmp_path: Path) -> None:
    same = copy_case(tmp_path, "go-clean-rename")
    shutil.rmtree(same / "head")
    shutil.copytree(same / "base", same / "head")
    assert case_problems(same, tmp_path / "r1") == [
        "head/ is the same as base/: there is no change"
    ]
    renamed = same.rename(tmp_path / "Go_Clean")
    assert "not a case id" in case_problems(renamed, tmp_path / "r2")[0]
