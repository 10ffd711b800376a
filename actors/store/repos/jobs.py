"""Job records: a job's row is written when it starts and when it ends (both written behind, through
`store.post(INSERT, row)` / `store.post(FINISH, row)`), read back by id, and failed in bulk when a
single-box server restarts over jobs that were running."""

from __future__ import annotations

import time

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from actors.store.actor import Write
from actors.store.schema import jobs

# `store.post(INSERT, row)`: a new job's row
INSERT = Write(insert(jobs).values({name: bindparam(name) for name in (
    "id", "owner_id", "kind", "tool_id", "status", "progress", "created_at", "updated_at")}))
# `store.post(FINISH, row)`: its end (keys prefixed with b_, the id included)
FINISH = Write(
    update(jobs)
    .where(jobs.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in (
        "status", "progress", "message", "result", "error", "code", "http_status", "updated_at")})
)


def by_id(conn: Connection, job_id: str) -> Row | None:
    return conn.execute(select(jobs).where(jobs.c.id == job_id)).first()


def fail_unfinished(conn: Connection, open_states: list[str], status: str, error: str, code: str,
                    http_status: int) -> int:
    """Every job still in one of `open_states` ends as `status` with this error; how many did."""
    return conn.execute(
        update(jobs).where(jobs.c.status.in_(open_states))
        .values(status=status, error=error, code=code, http_status=http_status, updated_at=time.time())
    ).rowcount
