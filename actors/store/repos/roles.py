"""Roles: named sets of permissions. Accounts refer to a role by name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from actors.store.schema import roles, users


def permissions_of(conn: Connection, name: str) -> list[str] | None:
    """The role's permissions; None when there is no such role."""
    row = conn.execute(select(roles.c.permissions).where(roles.c.name == name)).first()
    return None if row is None else list(row.permissions)


def by_id(conn: Connection, role_id: str) -> Row | None:
    return conn.execute(select(roles).where(roles.c.id == role_id)).first()


def exists(conn: Connection, name: str) -> bool:
    return conn.execute(select(roles.c.id).where(roles.c.name == name)).first() is not None


def name_taken(conn: Connection, name: str, *, except_id: str | None = None) -> bool:
    """Whether another role has this name, ignoring case."""
    query = select(roles.c.id).where(func.lower(roles.c.name) == name.lower())
    if except_id is not None:
        query = query.where(roles.c.id != except_id)
    return conn.execute(query).first() is not None


def listing(conn: Connection) -> list[Row]:
    """Every role, the built-in ones first, then by name."""
    return list(conn.execute(select(roles).order_by(roles.c.builtin.desc(), roles.c.name)))


def permissions_by_name(conn: Connection) -> dict[str, list[str]]:
    return {r.name: list(r.permissions) for r in conn.execute(select(roles.c.name, roles.c.permissions))}


def user_counts(conn: Connection) -> dict[str, int]:
    """role name -> how many accounts hold it."""
    return {r.role: r.n for r in conn.execute(select(users.c.role, func.count().label("n")).group_by(users.c.role))}


def create(conn: Connection, **values: Any) -> None:
    conn.execute(insert(roles).values(**values))


def change(conn: Connection, role_id: str, **values: Any) -> None:
    """Set the given columns of one role. Renaming a role is `rename`, which also moves its accounts."""
    conn.execute(update(roles).where(roles.c.id == role_id).values(**values))


def rename(conn: Connection, old: str, new: str) -> None:
    """A role's new name, carried over to every account holding it."""
    conn.execute(update(users).where(users.c.role == old).values(role=new))
    conn.execute(update(roles).where(roles.c.name == old).values(name=new))


def delete_moving_users(conn: Connection, role_id: str, name: str, to: str, now: float) -> int:
    """Delete a role; its accounts get role `to`. Returns how many accounts moved."""
    moved = conn.execute(update(users).where(users.c.role == name).values(role=to, updated_at=now)).rowcount
    conn.execute(delete(roles).where(roles.c.id == role_id))
    return moved


def ensure_builtin(conn: Connection, builtin: Mapping[str, tuple[str, Iterable[str]]], now: float) -> None:
    """The built-in roles (name -> (description, permissions)) exist and hold exactly what the code says,
    so that a permission added in a release reaches them on upgrade."""
    existing = {r.name for r in conn.execute(select(roles.c.name))}
    for name, (description, perms) in builtin.items():
        if name not in existing:
            create(conn, id=name, name=name, description=description, permissions=list(perms), builtin=True,
                   created_at=now, updated_at=now)
        else:
            conn.execute(update(roles).where(roles.c.name == name).values(permissions=list(perms), builtin=True))
