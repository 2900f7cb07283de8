"""Request middleware: session loading for form posts."""

from __future__ import annotations

from app.http import Request, Response
from app.sessions import load_session


def handle(request: Request, next_handler) -> Response:
    request.session = load_session(request.cookies.get("sid"))
    response = next_handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
