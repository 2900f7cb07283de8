"""Search results page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from markupsafe import Markup

from web.index import search

bp = Blueprint("search", __name__)


def highlight(text: str, term: str) -> Markup:
    return Markup(text.replace(term, f"<mark>{term}</mark>"))


@bp.get("/search")
def results():
    q = request.args.get("q", "").strip()
    hits = search(q) if q else []
    for hit in hits:
        hit.snippet = highlight(hit.snippet, q)
    return render_template("search.html", q=q, hits=hits)
