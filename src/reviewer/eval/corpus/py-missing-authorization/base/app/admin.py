"""Administration endpoints."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify
from flask_login import current_user, login_required

from app.models import User, db

bp = Blueprint("admin", __name__, url_prefix="/admin")


def require_admin() -> None:
    if not current_user.is_admin:
        abort(403)


@bp.get("/users")
@login_required
def list_users():
    require_admin()
    users = User.query.order_by(User.email).all()
    return jsonify([{"id": u.id, "email": u.email, "active": u.active} for u in users])
