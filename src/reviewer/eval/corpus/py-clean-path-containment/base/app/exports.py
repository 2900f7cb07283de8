"""Report exports: list what has been exported."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify

bp = Blueprint("exports", __name__)


def exports_dir() -> Path:
    return Path(current_app.config["EXPORTS_DIR"]).resolve()


@bp.get("/exports")
def listing():
    return jsonify(sorted(p.name for p in exports_dir().glob("*.csv")))
