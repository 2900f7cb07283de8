"""Order reports for the finance dashboard."""

from __future__ import annotations

import datetime as dt

import psycopg


def orders_between(
    conn: psycopg.Connection, start: dt.date, end: dt.date
) -> list[tuple[int, str, int]]:
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, status, total_cents FROM orders"
            " WHERE created_at >= %s AND created_at < %s ORDER BY created_at",
            (start, end),
        )
        return list(cur.fetchall())
