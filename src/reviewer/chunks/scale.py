"""The one place a model's calibration (real tokens per estimated token, chunks/calibration.py)
is applied: to a prompt's estimate before it is sent, and to the context the chunk budget is
cut from. A scale of 1.0 is the raw estimate (no calibration)."""

from __future__ import annotations

import math


def scaled(tokens: int, scale: float) -> int:
    """An estimate in the model's real tokens, rounded up."""
    return tokens if scale == 1.0 else math.ceil(tokens * scale)


def unscaled(tokens: int, scale: float) -> int:
    """The model's real tokens as estimated tokens, rounded down: the budget side of
    `scaled`, so that `scaled(unscaled(n)) <= n`."""
    return tokens if scale == 1.0 else math.floor(tokens / scale)
