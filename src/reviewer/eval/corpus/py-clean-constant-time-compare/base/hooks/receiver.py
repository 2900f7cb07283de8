"""Receiver for deliveries from the build service."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request

from hooks.handlers import dispatch

router = APIRouter()


@router.post("/hooks/build")
async def receive(request: Request) -> dict[str, str]:
    event = json.loads(await request.body())
    dispatch(event)
    return {"status": "accepted"}
