"""Teams. Names are unique ignoring case; SQLite's lower() folds ASCII only, so every name comparison also
tries the exact name (which the UNIQUE index enforces) to find non-ASCII names too."""

from __future__ import annotations

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from actors.store.schema import teams, users


def _named(name: str):
    return or_(func.lower(teams.c.name) == name.lower(), teams.c.name == name)


def by_id(conn: Connection, team_id: str) -> Row | None:
    return conn.execute(select(teams).where(teams.c.id == team_id)).first()


def by_name(conn: Connection, name: str) -> Row | None:
    """The team of that name, ignoring case."""
    return conn.execute(select(teams).where(_named(name))).first()


def name_taken(conn: Connection, name: str, *, except_id: str | None = None) -> bool:
    query = select(teams.c.id).where(_named(name))
    if except_id is not None:
        query = query.where(teams.c.id != except_id)
    return conn.execute(query).first() is not None


def names(conn: Connection) -> dict[str, str]:
    """id -> name of every team."""
    return {r.id: r.name for r in conn.execute(select(teams.c.id, teams.c.name))}


def listing(conn: Connection) -> list[Row]:
    """Every team, oldest first."""
    return list(conn.execute(select(teams).order_by(teams.c.created_at, teams.c.name)))


def member_counts(conn: Connection) -> dict[str | None, int]:
    """team id -> how many accounts are in it."""
    return {r.team_id: r.n for r in conn.execute(
        select(users.c.team_id, func.count().label("n")).group_by(users.c.team_id))}


def members(conn: Connection, team_id: str) -> int:
    return conn.execute(select(func.count()).select_from(users).where(users.c.team_id == team_id)).scalar() or 0


def create(conn: Connection, team_id: str, name: str, created_at: float) -> None:
    conn.execute(insert(teams).values(id=team_id, name=name, created_at=created_at))


def rename(conn: Connection, team_id: str, name: str) -> None:
    conn.execute(update(teams).where(teams.c.id == team_id).values(name=name))


def delete_team(conn: Connection, team_id: str) -> None:
    conn.execute(delete(teams).where(teams.c.id == team_id))


def ensure_default(conn: Connection, team_id: str, name: str, now: float) -> str:
    """The default team's id, creating it (as `team_id`) when neither that id nor that name exists."""
    found = conn.execute(select(teams.c.id).where(teams.c.id == team_id)).scalar()
    if found is None:
        found = conn.execute(select(teams.c.id).where(teams.c.name == name)).scalar()
    if found is None:
        create(conn, team_id, name, now)
        found = team_id
    return found
