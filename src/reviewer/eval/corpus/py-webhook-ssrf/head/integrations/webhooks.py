"""Webhook registrations for integrations."""

from __future__ import annotations

import httpx
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


@router.post("/test")
def send_test(reg: Registration, team=Depends(current_team)) -> dict[str, object]:
    response = httpx.post(str(reg.url), json={"event": "ping", "team": team.id}, timeout=5)
    return {"status": response.status_code, "body": response.text[:2000]}
