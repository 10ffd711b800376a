"""API keys: stored as a scrypt hash plus a short sha256 prefix that finds the row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from actors.store.actor import Write
from actors.store.schema import api_keys, users

# `store.post(TOUCH, {"b_id": key_id, "b_now": now})`: when a key was last used, written behind
TOUCH = Write(update(api_keys).where(api_keys.c.id == bindparam("b_id")).values(last_used_at=bindparam("b_now")))


def candidates(conn: Connection, prefix: str) -> list[Row]:
    """The keys whose lookup prefix matches (almost always one): id, key_hash, permissions, expires_at,
    user_id."""
    return list(conn.execute(
        select(api_keys.c.id, api_keys.c.key_hash, api_keys.c.permissions, api_keys.c.expires_at,
               api_keys.c.user_id).where(api_keys.c.prefix == prefix)))


def count_of(conn: Connection, user_id: str) -> int:
    return conn.execute(select(func.count()).select_from(api_keys).where(api_keys.c.user_id == user_id)).scalar() or 0


def create(conn: Connection, **values: Any) -> None:
    conn.execute(insert(api_keys).values(**values))


def listing(conn: Connection, user_id: str | None = None) -> list[Row]:
    """Keys without their hashes, oldest first, each with its owner's `username`; only `user_id`'s if given."""
    query = (select(api_keys.c.id, api_keys.c.name, api_keys.c.permissions, api_keys.c.created_at,
                    api_keys.c.expires_at, api_keys.c.last_used_at, api_keys.c.user_id, users.c.username)
             .join(users, users.c.id == api_keys.c.user_id)
             .order_by(api_keys.c.created_at))
    if user_id is not None:
        query = query.where(api_keys.c.user_id == user_id)
    return list(conn.execute(query))


def by_id(conn: Connection, key_id: str) -> Row | None:
    """id, name and user_id of one key."""
    return conn.execute(select(api_keys.c.id, api_keys.c.name, api_keys.c.user_id)
                        .where(api_keys.c.id == key_id)).first()


def revoke(conn: Connection, key_id: str) -> None:
    conn.execute(delete(api_keys).where(api_keys.c.id == key_id))


def revoke_all(conn: Connection, user_id: str) -> int:
    """Delete every key of an account; how many there were."""
    return conn.execute(delete(api_keys).where(api_keys.c.user_id == user_id)).rowcount
