"""Thumbnails for uploaded images."""

from __future__ import annotations

import subprocess
from pathlib import Path

THUMB_SIZE = "256x256"
CONVERT_TIMEOUT_S = 30


def make_thumbnail(source: Path, dest_dir: Path) -> Path:
    dest = dest_dir / f"{source.stem}.thumb.png"
    subprocess.run(
        [
            "convert",
            "-thumbnail",
            THUMB_SIZE,
            "--",
            f"png:{source}[0]",
            f"png:{dest}",
        ],
        check=True,
        capture_output=True,
        timeout=CONVERT_TIMEOUT_S,
    )
    return dest
