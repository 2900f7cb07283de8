"""The Python modules of src/reviewer, for the tests that read our own code. The evaluation
corpus below it (src/reviewer/eval/corpus) is package data, other teams' code as a review sees
it, so no rule about our modules (layers, imports, escaping tables) applies to it."""

from __future__ import annotations

from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "reviewer"
CORPUS_PARTS = ("eval", "corpus")


def python_modules(root: Path = SRC) -> list[Path]:
    """Every .py file under root, the corpus (root/eval/corpus) left out."""
    corpus = root.joinpath(*CORPUS_PARTS)
    return sorted(p for p in root.rglob("*.py") if not p.is_relative_to(corpus))
