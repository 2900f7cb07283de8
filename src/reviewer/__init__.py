"""reviewer: a code-review agent for CI that sends diffs only to a local model server."""

from __future__ import annotations

__version__ = "0.1.0"
