"""Default locations on disk, shared by the stages that use them (the response cache in the
review loop, the request-slot locks of the backends)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/reviewer`, else `~/.cache/reviewer` (the XDG base-directory rule)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative value is invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "reviewer"
    return Path.home() / ".cache" / "reviewer"
