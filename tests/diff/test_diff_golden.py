"""Golden pairs: tests/data/NAME.diff beside NAME.json (the parsed files, the skips and the
rendered chunks at a small budget). Regenerate with REVIEWER_UPDATE_GOLDEN=1 and review the
change like code."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from reviewer.chunks.chunking import build_chunks
from reviewer.diff.filters import filter_files
from reviewer.diff.parse import decode_diff, parse_diff
from reviewer.errors import DiffError
from reviewer.models import FileDiff
from reviewer.settings.config import RepoConfig

DATA = Path(__file__).parent.parent / "data"
BUDGET = 240  # small, so the golden files also pin how a hunk is split
CASES = sorted(p.stem for p in DATA.glob("*.diff"))


def _no_heads(paths: Sequence[str], lines: int) -> Mapping[str, str] | None:
    return None


def _file(f: FileDiff) -> dict[str, Any]:
    return {
        "path": f.path,
        "old_path": f.old_path,
        "status": f.status.value,
        "binary": f.is_binary,
        "submodule": f.is_submodule,
        "modes": [f.old_mode, f.new_mode],
        "added": f.added,
        "removed": f.removed,
        "hunks": [
            {
                "header": [h.old_start, h.old_len, h.new_start, h.new_len, h.section],
                "lines": [[ln.kind.value, ln.old_no, ln.new_no, ln.text] for ln in h.lines],
            }
            for h in f.hunks
        ],
    }


def _actual(name: str) -> dict[str, Any]:
    files = parse_diff(decode_diff((DATA / f"{name}.diff").read_bytes()))
    kept, skipped = filter_files(files, RepoConfig(), _no_heads)
    result = build_chunks(kept, BUDGET)
    return {
        "files": [_file(f) for f in files],
        "skipped": [[s.path, s.reason] for s in skipped],
        "chunks": [c.text.split("\n") for c in result.chunks],
    }


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 3


@pytest.mark.parametrize("name", CASES)
def test_golden(name: str) -> None:
    expected_path = DATA / f"{name}.json"
    actual = _actual(name)
    if os.environ.get("REVIEWER_UPDATE_GOLDEN") == "1":
        expected_path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert actual == json.loads(expected_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("just some text\nnot a diff\n", "holds no unified diff"),
        ("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-only one line\n", "not a valid unified diff"),
        ("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n?bad\n", "not a valid unified diff"),
    ],
)
def test_not_a_diff_is_a_diff_error(text: str, message: str) -> None:
    with pytest.raises(DiffError, match=message) as info:
        parse_diff(text)
    assert info.value.hint is not None


def test_empty_and_whitespace_input_is_an_empty_diff() -> None:
    assert parse_diff("") == ()
    assert parse_diff("\n") == ()
