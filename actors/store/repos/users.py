"""Accounts: lookups, creation, changes, deletion, and who an account acts as (its role's permissions and
its team's name)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, select, update

from actors.store.schema import api_keys, roles, sessions, teams, users


@dataclass(frozen=True, slots=True)
class Identity:
    """What an account acts as: its role's permissions and its team's name, read in one transaction."""
    user_id: str
    username: str
    role: str
    permissions: frozenset[str]
    team_name: str | None
    must_change_password: bool


def by_id(conn: Connection, user_id: str) -> Row | None:
    return conn.execute(select(users).where(users.c.id == user_id)).first()


def by_name(conn: Connection, username: str) -> Row | None:
    """The account with exactly this username (logins are case-sensitive)."""
    return conn.execute(select(users).where(users.c.username == username)).first()


def name_taken(conn: Connection, username: str) -> bool:
    """Whether a username is taken, ignoring case (no two accounts differ only by case)."""
    return conn.execute(select(users.c.id).where(func.lower(users.c.username) == username.lower())).first() \
        is not None


def exists(conn: Connection) -> bool:
    return conn.execute(select(users.c.id).limit(1)).first() is not None


def listing(conn: Connection) -> list[Row]:
    """Every account, oldest first."""
    return list(conn.execute(select(users).order_by(users.c.created_at, users.c.username)))


def create(conn: Connection, **values: Any) -> None:
    """One new account; `values` are its columns."""
    conn.execute(insert(users).values(**values))


def change(conn: Connection, user_id: str, **values: Any) -> None:
    """Set the given columns of one account."""
    conn.execute(update(users).where(users.c.id == user_id).values(**values))


def delete_with_credentials(conn: Connection, user_id: str) -> None:
    """Remove an account with its sessions and API keys."""
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))
    conn.execute(delete(api_keys).where(api_keys.c.user_id == user_id))
    conn.execute(delete(users).where(users.c.id == user_id))


def active_admin_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(users).where(
        users.c.role == "admin", users.c.disabled.is_(False))).scalar() or 0


def analytics(conn: Connection, user_id: str) -> dict[str, Any] | None:
    """The account's analytics consent, as last answered (None: never asked)."""
    return conn.execute(select(users.c.analytics).where(users.c.id == user_id)).scalar()


def identity(conn: Connection, user: Any) -> Identity:
    """Who `user` (an account row) acts as. An unknown role acts as `user`."""
    team = None
    if user.team_id:
        team = conn.execute(select(teams.c.name).where(teams.c.id == user.team_id)).scalar()
    row = conn.execute(select(roles.c.permissions).where(roles.c.name == user.role)).first()
    if row is None:
        row = conn.execute(select(roles.c.permissions).where(roles.c.name == "user")).first()
    return Identity(user.id, user.username, user.role, frozenset(row.permissions if row else ()), team,
                    bool(user.must_change_password))
