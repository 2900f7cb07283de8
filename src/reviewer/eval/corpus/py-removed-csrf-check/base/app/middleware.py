"""Request middleware: session loading and CSRF protection for form posts."""

from __future__ import annotations

import hmac

from app.http import Request, Response, forbidden
from app.sessions import load_session

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def handle(request: Request, next_handler) -> Response:
    request.session = load_session(request.cookies.get("sid"))
    if request.method in UNSAFE_METHODS:
        sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
        expected = request.session.get("csrf_token", "")
        if not expected or not hmac.compare_digest(sent, expected):
            return forbidden("CSRF token missing or wrong")
    response = next_handler(request)
    response.headers.setdefault("Cache-Control", "no-store")
    return response
