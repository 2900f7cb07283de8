"""chunks/prompt.py's token estimate: close above the real count on real diff lines, bounded
per character (the chunker and the intent rely on both bounds), and additive over lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewer.chunks import chunking, intent
from reviewer.chunks.chunking import cut_marker
from reviewer.chunks.prompt import estimate_tokens

# Rendered lines and what SmolLM2's tokenizer (llama.cpp's POST /tokenize, the end-to-end
# model) counts for them, measured once: docs/performance.md has the corpus-wide figures.
MEASURED = [
    ("12     if budget - reserve < MIN_CHUNK_TOKENS:\n13         raise UsageError(f\"--num-ctx "
     "{num_ctx} leaves {budget} tokens\")\n     return budget", 46),
    (" def head_lines(repo: Path, head: str, path: str, blobs: Blobs) -> list[str]:\n41-    key"
     " = (head, path)\n41     key = (head, path, 0)", 54),
    ("7 Sites with a fast model can pass `--context-lines 3` or more; a slow CPU can pass 1.", 27),
    ('3 {"input": "http://example.com/foo%00%51", "base": null, "port": 8080},', 33),
]  # fmt: skip


@pytest.mark.parametrize(("text", "real"), MEASURED)
def test_the_estimate_is_just_above_the_real_count(text: str, real: int) -> None:
    assert real <= estimate_tokens(text) <= 1.25 * real


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.text(alphabet=" \taZ9_(\n", max_size=300))
def test_the_estimate_is_bounded_per_character(text: str) -> None:
    """At least one token per intent._MAX_CHARS_PER_TOKEN characters (the intent drops text
    past that before estimating; a lone space, which merges with the next word, is free) and
    at most chunking._MAX_TOKENS_PER_CHAR per character (the chunker cuts long lines by it)."""
    tokens = estimate_tokens(text)
    assert (tokens + 1) * intent._MAX_CHARS_PER_TOKEN >= len(text)
    assert tokens <= chunking._MAX_TOKENS_PER_CHAR * len(text)


def test_the_longest_cut_marker_fits_its_room() -> None:
    # No line is longer than the diff, which is read up to 256 MiB.
    assert estimate_tokens(cut_marker(10**12)) <= chunking._CUT_MARKER_TOKENS


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=" \t aZ9_(){}=+.\"é数\U0001f600", max_size=40), max_size=8))
def test_line_estimates_plus_newlines_add_up_to_the_joined_estimate(lines: list[str]) -> None:
    joined = "\n".join(lines)
    assert sum(estimate_tokens(x) + 1 for x in lines) - 1 >= estimate_tokens(joined) or not lines
