from __future__ import annotations

import pytest

from billing.numbers import format_number, parse_number

TEST_DB_PASSWORD = "test"  # the throwaway database started by docker-compose.test.yml


def test_format_pads_the_sequence() -> None:
    assert format_number(2024, 42) == "INV-2024-000042"


@pytest.mark.parametrize("sequence", [0, -1, 1_000_000])
def test_format_refuses_out_of_range_sequences(sequence: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        format_number(2024, sequence)


def test_parse_round_trips() -> None:
    assert parse_number(format_number(2031, 999_999)) == (2031, 999_999)


@pytest.mark.parametrize("text", ["INV-24-000001", "inv-2024-000001", "INV-2024-1"])
def test_parse_refuses_malformed_numbers(text: str) -> None:
    with pytest.raises(ValueError, match="not an invoice number"):
        parse_number(text)
