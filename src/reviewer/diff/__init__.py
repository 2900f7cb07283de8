"""The diff stage: where the diff comes from (sources), what it says (parse) and what of it is
worth a model's tokens (filters)."""

from __future__ import annotations
