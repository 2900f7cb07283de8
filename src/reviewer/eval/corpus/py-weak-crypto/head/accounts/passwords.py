"""Local account passwords."""

from __future__ import annotations

import hashlib
import hmac


def protect(password: str) -> str:
    return hashlib.md5(password.encode()).hexdigest()


def check(password: str, stored: str) -> bool:
    return hmac.compare_digest(protect(password), stored)
