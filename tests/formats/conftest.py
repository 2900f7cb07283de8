"""Fixtures for the format tests."""

from __future__ import annotations

import pytest
from format_docs import make_document

from reviewer.models import FindingsDocument


@pytest.fixture
def document() -> FindingsDocument:
    return make_document()
