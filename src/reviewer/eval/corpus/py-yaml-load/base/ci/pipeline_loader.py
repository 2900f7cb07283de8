"""Load a repository's pipeline definition."""

from __future__ import annotations

import json
from pathlib import Path

from ci.schema import Pipeline


def load_pipeline(repo_root: Path) -> Pipeline:
    path = repo_root / ".pipeline.json"
    if not path.is_file():
        raise FileNotFoundError("no .pipeline.json in the repository")
    data = json.loads(path.read_text(encoding="utf-8"))
    return Pipeline.model_validate(data)
