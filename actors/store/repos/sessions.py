"""Sign-in sessions, found by the sha256 of their bearer token (the token itself is never stored)."""

from __future__ import annotations

from sqlalchemy import Connection, Row, delete, insert, select

from actors.store.schema import sessions, users


def open_session(conn: Connection, session_id: str, digest: str, user_id: str, created_at: float,
                 expires_at: float, ip: str | None, user_agent: str | None) -> None:
    conn.execute(insert(sessions).values(
        id=session_id, token_hash=digest, user_id=user_id, created_at=created_at, expires_at=expires_at, ip=ip,
        user_agent=(user_agent or "")[:500]))


def with_user(conn: Connection, digest: str, now: float) -> Row | None:
    """The account behind a live session, with `session_id` and `session_expires_at`; an expired session is
    deleted on the way and finds nothing."""
    row = conn.execute(
        # label the session's columns: a bare sessions.id would shadow users.id as `row.id`
        select(sessions.c.id.label("session_id"), sessions.c.expires_at.label("session_expires_at"), users)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.token_hash == digest)
    ).first()
    if row is not None and row.session_expires_at <= now:
        close(conn, digest)
        return None
    return row


def close(conn: Connection, digest: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == digest))


def end_all(conn: Connection, user_id: str, *, keep: str | None = None) -> None:
    """End every session of an account, but `keep` (a session id: the caller's own)."""
    query = delete(sessions).where(sessions.c.user_id == user_id)
    if keep is not None:
        query = query.where(sessions.c.id != keep)
    conn.execute(query)
