"""The file library: every version of a file is a row; the versions of one file share a `root_id` (the
first version's id) and count up from 1."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, and_, delete, func, insert, select

from actors.store.schema import files


class OverQuota(Exception):
    """Adding files would take an owner past the quota; nothing was written."""

    def __init__(self, used: int, adding: int, quota: int) -> None:
        super().__init__(f"{used} + {adding} bytes is over the quota of {quota}")
        self.used, self.adding, self.quota = used, adding, quota


def _owner_is(owner_id: str | None):
    return files.c.owner_id.is_(None) if owner_id is None else files.c.owner_id == owner_id


def used_bytes(conn: Connection, owner_id: str | None) -> int:
    return int(conn.execute(select(func.coalesce(func.sum(files.c.size), 0))
                            .where(_owner_is(owner_id))).scalar() or 0)


def add_within_quota(conn: Connection, rows: list[dict[str, Any]], quota: int) -> list[Row]:
    """Insert the rows, all or nothing: OverQuota when an owner would exceed `quota` bytes (0: no limit).
    A row with a `parent_id` becomes the next version of its chain. The check and the insert share the
    transaction on the store's single thread, so two uploads cannot both squeeze under the limit."""
    by_owner: dict[Any, int] = {}
    for row in rows:
        by_owner[row["owner_id"]] = by_owner.get(row["owner_id"], 0) + row["size"]
    if quota > 0:
        for owner, adding in by_owner.items():
            used = used_bytes(conn, owner)
            if used + adding > quota:
                raise OverQuota(used, adding, quota)
    for row in rows:
        if row["parent_id"] is not None:
            top = conn.execute(select(func.max(files.c.version)).where(files.c.root_id == row["root_id"])).scalar()
            row["version"] = int(top or 0) + 1
        conn.execute(insert(files).values(**row))
    return [by_id(conn, r["id"]) for r in rows]


def by_id(conn: Connection, file_id: str) -> Row | None:
    return conn.execute(select(files).where(files.c.id == file_id)).first()


def all_ids(conn: Connection) -> set[str]:
    return {r.id for r in conn.execute(select(files.c.id))}


def chain(conn: Connection, root_id: str) -> list[Row]:
    """Every version of one file, oldest first."""
    return list(conn.execute(select(files).where(files.c.root_id == root_id)
                             .order_by(files.c.version, files.c.created_at)))


def latest(conn: Connection, user_id: str | None, everyone: bool, search: str, limit: int,
           offset: int) -> tuple[list[Row], int]:
    """The newest version of each file (of `user_id`'s, or everyone's), newest first, whose name contains
    `search` (ignoring case; % and _ match themselves); with how many there are in all."""
    newest = (select(files.c.root_id, func.max(files.c.version).label("top")).group_by(files.c.root_id)
              .subquery("newest"))
    query = select(files).join(newest, and_(files.c.root_id == newest.c.root_id, files.c.version == newest.c.top))
    if not everyone:
        query = query.where(_owner_is(user_id))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(files.c.original_name.ilike(f"%{escaped}%", escape="\\"))
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar() or 0
    rows = list(conn.execute(query.order_by(files.c.created_at.desc(), files.c.id).limit(limit).offset(offset)))
    return rows, int(total)


def delete_chains(conn: Connection, roots: list[str]) -> list[str]:
    """Delete every version of the files with these root ids; the ids of the rows deleted."""
    ids = [r.id for r in conn.execute(select(files.c.id).where(files.c.root_id.in_(roots)))]
    if ids:
        conn.execute(delete(files).where(files.c.id.in_(ids)))
    return ids
