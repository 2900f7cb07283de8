"""Invoice numbers: INV-<year>-<sequence>, sequence zero-padded to six digits."""

from __future__ import annotations

import re

PATTERN = re.compile(r"INV-(\d{4})-(\d{6})")


def format_number(year: int, sequence: int) -> str:
    if not 0 < sequence < 1_000_000:
        raise ValueError(f"sequence out of range: {sequence}")
    return f"INV-{year:04d}-{sequence:06d}"


def parse_number(text: str) -> tuple[int, int]:
    m = PATTERN.fullmatch(text)
    if m is None:
        raise ValueError(f"not an invoice number: {text!r}")
    return int(m.group(1)), int(m.group(2))
