"""Rate-limit windows shared by every node: one-minute fixed windows on the database's clock, counted with
one atomic upsert per request, so that N nodes allow RATE_LIMIT_PER_MIN in all, not N times it."""

from __future__ import annotations

from sqlalchemy import Connection, text

from actors.store.repos.queue import NOW

WINDOW_S = 60


def hit(conn: Connection, key: str) -> tuple[int, float]:
    """Count one request for `key` in the current window: (its count now, seconds until the window ends)."""
    row = conn.execute(text(
        "INSERT INTO rate_windows AS w (key, window_start, count)"
        f" VALUES (:key, floor({NOW} / {WINDOW_S}) * {WINDOW_S}, 1)"
        " ON CONFLICT (key, window_start) DO UPDATE SET count = w.count + 1"
        f" RETURNING count, window_start + {WINDOW_S} - {NOW} AS left_s"), {"key": key}).one()
    return row.count, row.left_s


def prune(conn: Connection) -> None:
    """Windows that ended are forgotten (any node does it, from its heartbeat)."""
    conn.execute(text(f"DELETE FROM rate_windows WHERE window_start < {NOW} - {2 * WINDOW_S}"))
