"""Each case as a real git repository: one commit of base/, one of head/, so that the review
reads the change exactly as `reviewer run` reads a pull request (git range, filters, chunks).
Then the labels are checked against that diff: a `new` defect must touch a line the change
adds, an `old` defect's lines must be lines it removes."""

from __future__ import annotations

import shutil
from pathlib import Path

from reviewer.diff.gitcmd import run_git
from reviewer.eval.corpus import LABEL_FILE, Case, CorpusError, Defect
from reviewer.models import FileDiff, LineKind, ReviewPlan

# The commits are made by us, in a fresh repository: a fixed identity, and none of the user's
# settings that would change the bytes committed or ask for a key.
_COMMIT = (
    "-c", "user.name=reviewer eval",
    "-c", "user.email=eval@reviewer.invalid",
    "-c", "commit.gpgsign=false",
    "-c", "core.autocrlf=false",
    "-c", "core.hooksPath=/dev/null",
)  # fmt: skip


def build_repo(case: Case, directory: Path) -> tuple[str, str]:
    """Make `directory` a git repository whose two commits are the case's base and head;
    returns (base sha, head sha)."""
    directory.mkdir(parents=True, exist_ok=True)
    run_git(directory, ["init", "-q"])
    base = _commit(directory, case.base, "base")
    for entry in directory.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    head = _commit(directory, case.head, "head")
    return base, head


def _commit(directory: Path, files: dict[str, bytes], message: str) -> str:
    for rel, data in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # --force: the case's own .gitignore must not keep one of its files out of the tree.
    run_git(directory, [*_COMMIT, "add", "--all", "--force"])
    run_git(directory, [*_COMMIT, "commit", "-q", "--allow-empty", "-m", message])
    return run_git(directory, ["rev-parse", "HEAD"]).stdout.decode().strip()


def check_labels(case: Case, plan: ReviewPlan) -> None:
    """Every defect points at lines the change adds (new) or removes (old), in a file the
    review sends to the model; CorpusError otherwise."""
    for index, defect in enumerate(case.label.defects):
        problem = _label_problem(defect, plan)
        if problem is not None:
            where = f"{LABEL_FILE}: defects.{index}"
            raise CorpusError(
                f"corpus case `{case.id}`: {where}: {problem}",
                "label the lines the change adds (side = \"new\") or removes (side = \"old\")",
            )


def _label_problem(defect: Defect, plan: ReviewPlan) -> str | None:
    file = _file(defect, plan)
    if file is None:
        skipped = next((s for s in plan.skipped if s.path == defect.path), None)
        if skipped is not None:
            return f"`{defect.path}` is left out of the review ({skipped.reason})"
        return f"the change does not touch `{defect.path}`"
    first, last = defect.lines
    wanted = set(range(first, last + 1))
    if defect.side == "new":
        if wanted & changed_lines(file, LineKind.ADDED):
            return None
        return f"lines {[first, last]} of `{defect.path}` hold no line the change adds"
    missing = sorted(wanted - changed_lines(file, LineKind.REMOVED))
    if not missing:
        return None
    return f"line {missing[0]} of base/{defect.path} is not a line the change removes"


def _file(defect: Defect, plan: ReviewPlan) -> FileDiff | None:
    for file in plan.files:
        # A removed line belongs to the base path (a renamed file's old name).
        path = file.path if defect.side == "new" else (file.old_path or file.path)
        if path == defect.path:
            return file
    return None


def changed_lines(file: FileDiff, kind: LineKind) -> set[int]:
    """The numbers of the file's added lines (new-file numbers) or removed ones (old-file)."""
    numbers = (
        line.new_no if kind is LineKind.ADDED else line.old_no
        for hunk in file.hunks
        for line in hunk.lines
        if line.kind is kind
    )
    return {n for n in numbers if n is not None}
