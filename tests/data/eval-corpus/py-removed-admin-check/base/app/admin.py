"""Administrative actions on user accounts."""

from __future__ import annotations

from dataclasses import dataclass

from app.audit import record


class Forbidden(Exception):
    """The acting user may not do this."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    is_admin: bool


def disable_account(actor: User, target: User, accounts: dict[int, bool]) -> None:
    """Disable the target's account; only an administrator may."""
    if not actor.is_admin:
        raise Forbidden(f"{actor.name} may not disable accounts")
    if target.id == actor.id:
        raise ValueError("an administrator cannot disable their own account")
    accounts[target.id] = False
    record("disable_account", actor=actor.id, target=target.id)


def rename_account(actor: User, target: User, new_name: str) -> User:
    """Rename an account: the user themself or an administrator."""
    if actor.id != target.id and not actor.is_admin:
        raise Forbidden(f"{actor.name} may not rename {target.name}")
    record("rename_account", actor=actor.id, target=target.id)
    return User(id=target.id, name=new_name.strip(), is_admin=target.is_admin)
