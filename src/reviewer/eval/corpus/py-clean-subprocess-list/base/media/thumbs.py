"""Thumbnails for uploaded images."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

THUMB_SIZE = (256, 256)


def make_thumbnail(source: Path, dest_dir: Path) -> Path:
    dest = dest_dir / f"{source.stem}.thumb.png"
    with Image.open(source) as img:
        img.thumbnail(THUMB_SIZE)
        img.save(dest, format="PNG")
    return dest
