"""Runtime settings: a key -> JSON value table (the Settings API)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from actors.store.schema import settings
from actors.store.upsert import upsert


def all_values(conn: Connection) -> dict[str, Any]:
    return {row.key: row.value for row in conn.execute(select(settings.c.key, settings.c.value))}


def put(conn: Connection, updates: dict[str, Any], user_id: str | None, now: float) -> None:
    """Set each key to its value (insert or replace), recording who changed it and when."""
    for key, value in updates.items():
        upsert(conn, settings, {"key": key, "value": value, "updated_at": now, "updated_by": user_id}, ["key"])
