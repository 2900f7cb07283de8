"""Receiver for deliveries from the build service, which signs each body with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from fastapi import APIRouter, HTTPException, Request

from hooks.handlers import dispatch

router = APIRouter()
SECRET = os.environ["BUILD_HOOK_SECRET"].encode()


def valid_signature(body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


@router.post("/hooks/build")
async def receive(request: Request) -> dict[str, str]:
    body = await request.body()
    if not valid_signature(body, request.headers.get("X-Signature-256")):
        raise HTTPException(status_code=401, detail="bad signature")
    dispatch(json.loads(body))
    return {"status": "accepted"}
