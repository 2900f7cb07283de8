"""Webhook registrations for integrations."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, HttpUrl

from integrations.auth import current_team
from integrations.store import save_webhook

router = APIRouter(prefix="/webhooks")


class Registration(BaseModel):
    url: HttpUrl
    events: list[str]


@router.post("")
def register(reg: Registration, team=Depends(current_team)) -> dict[str, str]:
    hook_id = save_webhook(team.id, str(reg.url), reg.events)
    return {"id": hook_id}
