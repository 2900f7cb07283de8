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


@bp.post("/users/<int:user_id>/deactivate")
@login_required
def deactivate_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    user.active = False
    db.session.commit()
    return jsonify({"id": user.id, "active": user.active})
