"""Local account passwords."""

from __future__ import annotations

from cryptography.fernet import Fernet

from accounts.settings import PASSWORD_KEY

_fernet = Fernet(PASSWORD_KEY)


def protect(password: str) -> str:
    return _fernet.encrypt(password.encode()).decode()


def check(password: str, stored: str) -> bool:
    return _fernet.decrypt(stored.encode()).decode() == password
