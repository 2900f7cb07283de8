"""Report attachments: upload and list."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.utils import secure_filename

bp = Blueprint("attachments", __name__)


def storage() -> Path:
    return Path(current_app.config["ATTACHMENTS_DIR"])


@bp.post("/attachments")
def upload():
    f = request.files.get("file")
    if f is None or not f.filename:
        abort(400)
    name = secure_filename(f.filename)
    f.save(storage() / name)
    return jsonify({"name": name}), 201


@bp.get("/attachments")
def listing():
    return jsonify(sorted(p.name for p in storage().iterdir()))
