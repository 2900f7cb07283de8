"""Order reports for the finance dashboard."""

from __future__ import annotations

import datetime as dt

import psycopg

ALLOWED_STATUSES = frozenset({"paid", "refunded", "pending"})


def orders_between(
    conn: psycopg.Connection,
    start: dt.date,
    end: dt.date,
    statuses: list[str] | None = None,
) -> list[tuple[int, str, int]]:
    clauses = ["created_at >= %s", "created_at < %s"]
    params: list[object] = [start, end]
    if statuses:
        unknown = set(statuses) - ALLOWED_STATUSES
        if unknown:
            raise ValueError(f"unknown status: {sorted(unknown)}")
        clauses.append("status = ANY(%s)")
        params.append(list(statuses))
    sql = (
        "SELECT id, status, total_cents FROM orders WHERE "
        + " AND ".join(clauses)
        + " ORDER BY created_at"
    )
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())
