"""docs/threat-model.md names real tests: every test file and test function it names exists (a
`file::name` in that file), so a renamed or deleted test cannot leave a guarantee unproven on
paper. Tests still being written are named by folder only, "(tests/hosts/…, issue 14)"."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "threat-model.md").read_text(encoding="utf-8")
FILE_REF = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`")
NAME_REF = re.compile(r"`(?:::)?(test_\w+)`")


def defined(text: str, name: str) -> bool:
    return re.search(rf"^\s*(?:async\s+)?def {name}\(", text, flags=re.M) is not None


def test_every_test_file_and_name_the_threat_model_gives_exists() -> None:
    files = FILE_REF.findall(DOC)
    assert len(files) >= 30
    for path, name in files:
        assert (ROOT / path).is_file(), path
        if name:
            assert defined((ROOT / path).read_text(encoding="utf-8"), name), f"{path}::{name}"
    every_test = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    names = set(NAME_REF.findall(DOC))
    assert len(names) >= 30
    missing = sorted(name for name in names if not defined(every_test, name))
    assert missing == []


def test_the_check_finds_a_name_that_does_not_exist() -> None:
    assert not defined("def test_a():\n    pass\n", "test_b")
    assert defined("class T:\n    def test_b(self):\n        pass\n", "test_b")
    assert FILE_REF.findall("`tests/x/test_y.py::test_z`") == [("tests/x/test_y.py", "test_z")]
