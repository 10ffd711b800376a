"""The audit log: entries are appended (usually written behind, through `store.post(RECORD, entry)`) and
read newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select

from actors.store.actor import Write
from actors.store.schema import audit_log

FIELDS = ("at", "action", "actor_id", "actor_name", "target", "ip", "details")
# `store.post(RECORD, entry)`: one entry with every one of FIELDS
RECORD = Write(insert(audit_log).values({name: bindparam(name) for name in FIELDS}))


def append(conn: Connection, entry: dict[str, Any]) -> None:
    """One entry, inside the caller's transaction (with what it records)."""
    conn.execute(insert(audit_log).values(**entry))


def page(conn: Connection, actions: list[str], since: float | None, until: float | None, limit: int,
         offset: int) -> tuple[int, list[Row]]:
    """(how many entries match, the `limit` newest from `offset` on). No actions: every action."""
    conditions = []
    if actions:
        conditions.append(audit_log.c.action.in_(actions))
    if since is not None:
        conditions.append(audit_log.c.at >= since)
    if until is not None:
        conditions.append(audit_log.c.at <= until)
    total = conn.execute(select(func.count()).select_from(audit_log).where(*conditions)).scalar() or 0
    rows = conn.execute(select(audit_log).where(*conditions)
                        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
                        .limit(limit).offset(offset)).all()
    return total, list(rows)
