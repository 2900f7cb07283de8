"""Counts a person reads, in the right number for 0, 1 and 2: the one helper (`plural`) and
every line that prints a count through it (the text format, the run's closing summary)."""

from __future__ import annotations

import pytest

from reviewer.formats.common import NotReviewed, plural
from reviewer.formats.text import TextFormat
from reviewer.models import Stats
from reviewer.review.progress import summary
from tests.formats.format_docs import make_document


@pytest.mark.parametrize(
    ("count", "expected"), [(0, "0 findings"), (1, "1 finding"), (2, "2 findings")]
)
def test_plural_regular(count: int, expected: str) -> None:
    assert plural(count, "finding") == expected


def test_plural_irregular() -> None:
    assert [plural(n, "match", "matches") for n in (0, 1, 2)] == ["0 matches", "1 match", "2 matches"]


@pytest.mark.parametrize("count", [0, 1, 2])
def test_the_text_format_counts_findings(count: int) -> None:
    base = make_document()
    document = base.model_copy(update={"findings": base.findings[:count]})
    text = TextFormat().render(document)
    assert f"\n{plural(count, 'finding')} (" in text
    assert "1 findings" not in text


def test_not_reviewed_lines_count_removed_lines() -> None:
    assert NotReviewed("a.py", "binary", 2, 1, False).describe() == (
        "binary, 2 added and 1 removed line"
    )
    assert NotReviewed("a.py", "binary", 1, 0, False).describe() == (
        "binary, 1 added and 0 removed lines"
    )


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, ("0 files reviewed", "0 findings", "0 model calls", "0 cached answers reused")),
        (1, ("1 file reviewed", "1 finding (1 high)", "1 model call (", "1 cached answer reused")),
        (2, ("2 files reviewed", "2 findings (1 high, 1 low)", "2 model calls", "2 cached answers")),
    ],
)
def test_the_closing_summary_counts_in_the_right_number(n: int, words: tuple[str, ...]) -> None:
    base = make_document()
    high_low = tuple(f for f in base.findings if f.severity.value in ("high", "low"))
    stats = Stats(files_reviewed=n, model_calls=n, cache_hits=n, cache_misses=1)
    document = base.model_copy(update={"findings": high_low[:n], "stats": stats})
    line = summary(document)
    for word in words:
        assert word in line, line
