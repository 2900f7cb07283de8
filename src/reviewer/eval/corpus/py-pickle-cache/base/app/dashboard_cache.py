"""Dashboard rendering."""

from __future__ import annotations

from app.metrics import collect_widgets
from app.render import render_widget


def dashboard(team_id: int) -> dict[str, object]:
    widgets = collect_widgets(team_id)
    return {
        "team": team_id,
        "widgets": [render_widget(w) for w in widgets],
    }
