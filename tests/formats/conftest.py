"""Fixtures for the format tests."""

from __future__ import annotations

import pytest

from reviewer.models import FindingsDocument
from tests.formats.format_docs import make_document


@pytest.fixture
def document() -> FindingsDocument:
    return make_document()
