"""Saved pipelines: a named list of steps, owned by an account (None: saved with authentication off)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select

from actors.store.schema import pipelines


def save(conn: Connection, values: dict[str, Any]) -> Row:
    """Store one pipeline (its columns in `values`) and return its row."""
    conn.execute(insert(pipelines).values(**values))
    return by_id(conn, values["id"])


def by_id(conn: Connection, pipeline_id: str) -> Row | None:
    return conn.execute(select(pipelines).where(pipelines.c.id == pipeline_id)).first()


def listing(conn: Connection, owner_id: str | None, everyone: bool) -> list[Row]:
    """Newest first: `owner_id`'s pipelines, or everyone's."""
    query = select(pipelines).order_by(pipelines.c.created_at.desc())
    if not everyone:
        owner = pipelines.c.owner_id
        query = query.where(owner.is_(None) if owner_id is None else owner == owner_id)
    return list(conn.execute(query))


def delete_pipeline(conn: Connection, pipeline_id: str) -> None:
    conn.execute(delete(pipelines).where(pipelines.c.id == pipeline_id))
