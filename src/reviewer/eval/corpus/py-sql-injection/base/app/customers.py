"""Customer queries for the back-office API."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Customer:
    id: int
    name: str
    email: str


def _row(row: sqlite3.Row) -> Customer:
    return Customer(id=row["id"], name=row["name"], email=row["email"])


def list_customers(conn: sqlite3.Connection, limit: int = 50) -> list[Customer]:
    rows = conn.execute(
        "SELECT id, name, email FROM customers ORDER BY name LIMIT ?", (limit,)
    ).fetchall()
    return [_row(r) for r in rows]


def get_customer(conn: sqlite3.Connection, customer_id: int) -> Customer | None:
    row = conn.execute(
        "SELECT id, name, email FROM customers WHERE id = ?", (customer_id,)
    ).fetchone()
    return _row(row) if row else None
