"""INSERT ... ON CONFLICT DO UPDATE for the dialects Lutra runs on (SQLite and PostgreSQL spell it the same
way in SQL, but SQLAlchemy builds it from each dialect's own `insert`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert(conn: Connection, table: Table, values: dict[str, Any], key: list[str]) -> None:
    """Insert `values`, or update every non-key column of the row whose `key` columns match."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(values)
    else:  # pragma: no cover - make_engine only builds these two
        raise NotImplementedError(f"upsert on {dialect}")
    changed = {name: stmt.excluded[name] for name in values if name not in key}
    conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=changed))
