"""Report exports: list and download what has been exported."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, send_file

bp = Blueprint("exports", __name__)


def exports_dir() -> Path:
    return Path(current_app.config["EXPORTS_DIR"]).resolve()


@bp.get("/exports")
def listing():
    return jsonify(sorted(p.name for p in exports_dir().glob("*.csv")))


@bp.get("/exports/<path:name>")
def download(name: str):
    root = exports_dir()
    path = (root / name).resolve()
    if not path.is_relative_to(root) or path.suffix != ".csv" or not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=path.name)
