"""Rendering is linear in its input, whatever the input: the hostile shapes that were
quadratic (brackets for the link pattern, backtick runs of every length for the code-span
search, unclosed fences) cost about four times as much at four times the size. Timing is
compared, never asserted absolutely: the smallest of four interleaved runs at n and 4n,
against a generous ratio of 10 (linear is 4, quadratic 16; the machine may be busy)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from reviewer.formats import render
from reviewer.formats.sanitize import code_span, one_line, sanitize_markdown
from reviewer.formats.summary import Placed, Where, summary_body
from reviewer.models import (
    Category,
    Finding,
    FindingsDocument,
    ModelInfo,
    Severity,
    Status,
    ToolInfo,
)
from reviewer.post.bodies import fallback_review_body, inline_body
from tests.markdown_html import assert_inert


def _ticks(n: int) -> str:
    runs, k = [], 1
    while sum(len(r) for r in runs) < n:
        runs.append("`" * (k % 300) + " ")
        k += 1
    return "".join(runs)[:n]


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


SHAPES: dict[str, Callable[[int], str]] = {
    "brackets": _repeat("["),
    "link openers": _repeat("]("),
    "images": _repeat("!["),
    "backtick runs of every length": _ticks,
    "escaped backticks": _repeat("\\`"),
    "unclosed fences": _repeat("```\n"),
    "tilde fences": _repeat("~~~~\n```\n"),
    "pings": _repeat("@a"),
    "angle brackets": _repeat("<"),
    "commands": _repeat(" \n::"),
    "hidden": _repeat("\U000e0041\u200b"),
    "credentials": _repeat("token = "),
}
RENDERERS: dict[str, Callable[[str], str]] = {
    "message": sanitize_markdown,
    "title": lambda t: one_line(t, 10**9),
    "code span": code_span,
}
N = 25_000


def _time(fn: Callable[[str], str], text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


@pytest.mark.parametrize("renderer", list(RENDERERS))
@pytest.mark.parametrize("shape", list(SHAPES))
def test_four_times_the_input_costs_about_four_times_the_time(shape: str, renderer: str) -> None:
    fn, make = RENDERERS[renderer], SHAPES[shape]
    n = N
    while _time(fn, make(n)) < 0.03 and n < 64 * N:
        n *= 4  # too quick to time well on a busy machine: measure bigger inputs
    small_text, large_text = make(n), make(4 * n)
    # Interleaved, smallest of each: a burst of load elsewhere hits both sizes alike.
    small = large = float("inf")
    for _ in range(4):
        small = min(small, _time(fn, small_text))
        large = min(large, _time(fn, large_text))
    assert large / small < 10, (shape, renderer, n, small, large)


def test_a_hundred_findings_of_8000_brackets_render_and_stay_inert() -> None:
    # The case: over a minute with the old link pattern; now a fraction of a second.
    findings = tuple(
        Finding(
            path=f"f{i}.py", line=1, end_line=1, severity=Severity.HIGH, category=Category.BUG,
            title="[" * 8000, message="[" * 8000, suggestion="[" * 8000, fingerprint=f"fp{i}",
        )
        for i in range(100)
    )
    doc = FindingsDocument(
        status=Status.COMPLETE, tool=ToolInfo(version="1"), model=ModelInfo(backend="o", name="m"),
        findings=findings,
    )
    bodies = [
        summary_body(doc),
        summary_body(doc, [Placed(f, Where.SUMMARY) for f in findings]),
        fallback_review_body([Placed(f, Where.REVIEW) for f in findings])[0],
        render(doc, "markdown"),
        *(inline_body(f) for f in findings),
    ]
    for body in bodies:
        assert len(body) <= 65_536
        assert_inert(body)
    assert "more findings did not fit" in bodies[1]
