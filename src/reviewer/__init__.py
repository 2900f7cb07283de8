"""reviewer: a code-review agent for CI that sends diffs only to a local model server."""

from __future__ import annotations

__version__ = "0.1.0"
# The distribution's name, what pip and importlib.metadata know it by (pyproject.toml
# [project] name). The command and the import package stay `reviewer`; `reviewer` on PyPI is an
# unrelated project, so the distribution cannot carry that name.
DISTRIBUTION = "reviewer-ci"
