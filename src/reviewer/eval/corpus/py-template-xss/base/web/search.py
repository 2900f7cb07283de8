"""Search results page."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from web.index import search

bp = Blueprint("search", __name__)


@bp.get("/search")
def results():
    q = request.args.get("q", "").strip()
    hits = search(q) if q else []
    return render_template("search.html", q=q, hits=hits)
