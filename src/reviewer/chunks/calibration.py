"""The estimate's calibration for one model: the fixed sample a server counts (the system prompt
and a bundled representative diff, rendered by the current renderer so it follows format
changes), the scale derived from that count, and the one place the scale is applied to an
estimate. The estimator itself (prompt.estimate_tokens) is not changed."""

from __future__ import annotations

import functools
import hashlib
import math
from importlib import resources

from reviewer.chunks.chunking import build_chunks
from reviewer.chunks.prompt import (
    DIFF_END,
    SYSTEM_PROMPT,
    estimate_tokens,
    exact_estimate,
    render_user_message,
)
from reviewer.diff.parse import parse_diff

# The calibrated estimate is this much above the sample's real count: real code varies around
# the sample, and an estimate under the real count is the side to avoid.
MARGIN = 1.05
# A measured scale outside this range is a broken count (or a prompt cache that hid most of
# the prompt), not a tokenizer: the raw estimate is used instead.
MIN_SCALE = 0.4
MAX_SCALE = 4.0

# A small change of the kinds reviewed most (Python, Go, JavaScript), with context lines, a
# removed check, numbers, strings and comments: package data beside this module.
SAMPLE_FILE = "calibration_sample.diff"


@functools.lru_cache(maxsize=1)
def _sample_parts() -> tuple[str, str]:
    """The system prompt with the frame's first line, and the sample diff's chunk text."""
    diff = resources.files("reviewer.chunks").joinpath(SAMPLE_FILE).read_text(encoding="utf-8")
    chunks = build_chunks(parse_diff(diff), budget=1_000_000).chunks
    text = "\n".join(c.text for c in chunks)
    chunk = f"{text}\n{DIFF_END}"
    return SYSTEM_PROMPT + "\n" + render_user_message(text).removesuffix(chunk), chunk


def calibration_sample() -> str:
    """The fixed text a server counts to calibrate the estimate: the system prompt, then the
    sample diff as the model sees a chunk (framed, with gutters), by the current renderer."""
    return "".join(_sample_parts())


def sample_estimate() -> int:
    """The sample's estimate, made as a request's is: the fixed text exactly, the chunk's text
    as the chunker estimates it (loop.estimate_prompt_tokens)."""
    fixed, chunk = _sample_parts()
    return exact_estimate(fixed) + estimate_tokens(chunk)


def sample_id() -> str:
    """What a stored calibration was measured on: the sample's text and its estimate (a new
    format or a new estimator makes a new sample, so an old scale is never reused for it)."""
    digest = hashlib.sha256(calibration_sample().encode()).hexdigest()[:16]
    return f"{digest}-{sample_estimate()}"


def scale_from(real: int) -> float | None:
    """The scale (real tokens per estimated token, with the margin) from the sample's real
    count, or None when the count cannot be one (the raw estimate is then used)."""
    estimated = sample_estimate()
    if real <= 0 or estimated <= 0:
        return None
    # Rounded up to a thousandth: a count a token off gives the same scale, so the same chunks.
    scale = math.ceil(real * MARGIN * 1000 / estimated) / 1000
    return scale if MIN_SCALE <= scale <= MAX_SCALE else None
