"""Load a repository's pipeline definition (.pipeline.yml or .pipeline.json)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ci.schema import Pipeline


def load_pipeline(repo_root: Path) -> Pipeline:
    yml = repo_root / ".pipeline.yml"
    if yml.is_file():
        with yml.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=yaml.Loader)
        return Pipeline.model_validate(data)
    path = repo_root / ".pipeline.json"
    if not path.is_file():
        raise FileNotFoundError("no .pipeline.yml or .pipeline.json in the repository")
    data = json.loads(path.read_text(encoding="utf-8"))
    return Pipeline.model_validate(data)
