"""Dashboard rendering, cached in Redis for a minute."""

from __future__ import annotations

import pickle

import redis

from app.metrics import collect_widgets
from app.render import render_widget

TTL_SECONDS = 60
cache = redis.Redis(host="cache.internal", port=6379)


def dashboard(team_id: int) -> dict[str, object]:
    key = f"dashboard:{team_id}"
    cached = cache.get(key)
    if cached is not None:
        return pickle.loads(cached)
    widgets = collect_widgets(team_id)
    result = {
        "team": team_id,
        "widgets": [render_widget(w) for w in widgets],
    }
    cache.setex(key, TTL_SECONDS, pickle.dumps(result))
    return result
