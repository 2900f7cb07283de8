"""Order lookups for the support dashboard."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Order:
    id: int
    customer: str
    total_cents: int
    status: str


def _row(row: sqlite3.Row) -> Order:
    return Order(
        id=row["id"],
        customer=row["customer"],
        total_cents=row["total_cents"],
        status=row["status"],
    )


def order_by_id(db: sqlite3.Connection, order_id: int) -> Order | None:
    row = db.execute(
        "SELECT id, customer, total_cents, status FROM orders WHERE id = ?",
        (order_id,),
    ).fetchone()
    return _row(row) if row is not None else None


def open_orders(db: sqlite3.Connection, limit: int = 50) -> list[Order]:
    rows = db.execute(
        "SELECT id, customer, total_cents, status FROM orders "
        "WHERE status = 'open' ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [_row(r) for r in rows]
