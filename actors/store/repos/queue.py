"""The job queue's SQL on PostgreSQL: the writes a job's path posts to the store (enqueue, complete, cancel,
notify) and the transactions the node runs on its own connections (claim, heartbeat, leave, outcomes,
health). Nothing here holds state: service.cluster.node decides when each runs."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Connection, text

from actors.store.actor import Write
from protocols.errors import ErrorCode

QUEUE_CHANNEL = "lutra_queue"  # payload: a family; jobs of it were queued
JOBS_CHANNEL = "lutra_jobs"  # payload: {"id", "p", "m", "b"?} progress, or {"id", "end": 1}
SETTINGS_CHANNEL = "lutra_settings"  # payload: the id of the node that changed them
CANCEL_CHANNEL = "lutra_cancel"  # payload: a job id
MAX_ATTEMPTS = 3  # a job whose node died this many times fails instead of killing a fourth
NOW = "extract(epoch from clock_timestamp())"  # leases run on the database's clock, not the nodes'


# ---- writes posted to the store (run in order on its thread, after the job's own row) --------------------

def driver(conn: Connection):
    """The psycopg connection under SQLAlchemy's, inside its transaction: the queue's writes run on every
    job's path, and one plain execute costs a fraction of SQLAlchemy's execution (as for Write)."""
    return conn.connection.driver_connection


NOTIFY_SQL = "SELECT pg_notify(%(c)s, %(p)s)"


class _Enqueue(Write):
    """The job's queue row (claimed already when this node runs it, on a lease from the database's clock);
    a queued one is announced to the nodes that might claim it."""

    SQL = ("INSERT INTO job_queue (id, family, tool_id, payload, state, node_id, lease_until, attempts, persist,"
           " created_at) VALUES (%(id)s, %(family)s, %(tool_id)s, %(payload)s::json, %(state)s, %(node_id)s,"
           f" {NOW} + %(lease)s::double precision, %(attempts)s, %(persist)s, %(created_at)s)")

    def __init__(self) -> None:
        super().__init__(text(self.SQL))

    def __call__(self, conn: Connection, params: dict[str, Any]) -> None:
        connection = driver(conn)
        connection.execute(self.SQL, params)
        if params["state"] == "queued":
            connection.execute(NOTIFY_SQL, {"c": QUEUE_CHANNEL, "p": params["family"]})


class _Complete(Write):
    """A job's end, committed once: only by the node holding the current attempt (a node whose lease lapsed
    while it was still working finds the row taken and its result is dropped). The queue row, the job's row
    and the announcement are one statement (one round trip: on a busy box each round trip to the database
    process waits for the scheduler, and this one is on the job's response path). Sets params["won"]."""

    SQL = (
        "WITH q AS (UPDATE job_queue SET state = 'done', outcome = %(outcome)s::json, finished_at = " + NOW +
        "           WHERE id = %(id)s AND state = 'running' AND node_id = %(node)s AND attempts = %(attempt)s"
        "           RETURNING id, persist),"
        " j AS (UPDATE jobs SET status = %(status)s, progress = %(progress)s, result = %(result)s::json,"
        "           error = %(error)s, code = %(code)s, http_status = %(http_status)s, updated_at = %(now)s"
        "       WHERE id IN (SELECT id FROM q WHERE persist)"
        "         AND status NOT IN ('completed', 'failed', 'canceled') RETURNING id)"
        " SELECT pg_notify(%(c)s, %(note)s), (SELECT count(*) FROM j) FROM q")

    def __init__(self) -> None:
        super().__init__(text(self.SQL))

    def __call__(self, conn: Connection, params: dict[str, Any]) -> None:
        outcome = params["outcome"]
        completed = outcome["status"] == "completed"
        row = driver(conn).execute(self.SQL, {
            "id": params["id"], "node": params["node"], "attempt": params["attempt"],
            "outcome": json.dumps(outcome), "status": outcome["status"],
            "progress": 100.0 if completed else params["progress"],
            "result": json.dumps(outcome["result"]) if outcome.get("result") is not None else None,
            "error": outcome.get("error"), "code": outcome.get("code"), "http_status": outcome.get("httpStatus"),
            "now": time.time(), "c": JOBS_CHANNEL, "note": json.dumps({"id": params["id"], "end": 1}),
        }).fetchone()
        params["won"] = row is not None


class _Notify(Write):
    def __init__(self) -> None:
        super().__init__(text(NOTIFY_SQL))

    def __call__(self, conn: Connection, params: dict[str, Any]) -> None:
        driver(conn).execute(NOTIFY_SQL, params)


ENQUEUE = _Enqueue()
COMPLETE = _Complete()
NOTIFY = _Notify()


def failure(code: ErrorCode, message: str, status: int) -> dict[str, Any]:
    return {"status": "failed", "error": message, "code": code.value, "httpStatus": status}



def claim(conn: Connection, node_id: str, free: dict[str, int], lease_s: float) -> list[Any]:
    rows = []
    for family, count in free.items():
        rows += conn.execute(text(
            f"UPDATE job_queue SET state = 'running', node_id = :node, lease_until = {NOW} + :lease,"
            " attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM job_queue WHERE state = 'queued' AND family = :family"
            "              ORDER BY created_at LIMIT :n FOR UPDATE SKIP LOCKED)"
            " RETURNING id, family, tool_id, payload, attempts, persist"),
            {"node": node_id, "lease": lease_s, "family": family, "n": count}).all()
    ids = [r.id for r in rows if r.persist]
    if ids:
        conn.execute(text("UPDATE jobs SET status = 'processing' WHERE id = ANY(:ids) AND status = 'queued'"),
                     {"ids": ids})
    return rows


def heartbeat(conn: Connection, node_id: str, running: dict[str, int], mine: list[str], lease_s: float) -> int:
    conn.execute(text(f"UPDATE nodes SET heartbeat_at = {NOW}, running = CAST(:running AS json) WHERE id = :id"),
                 {"id": node_id, "running": json.dumps(running)})
    if mine:
        conn.execute(text(f"UPDATE job_queue SET lease_until = {NOW} + :lease"
                          " WHERE node_id = :id AND state = 'running' AND id = ANY(:mine)"),
                     {"id": node_id, "lease": lease_s, "mine": mine})
    # a job whose node went silent too often fails (it may be what kills them); the rest are queued again
    failed = conn.execute(text(
        "UPDATE job_queue SET state = 'done', finished_at = " + NOW + ", outcome = CAST(:outcome AS json)"
        f" WHERE state = 'running' AND lease_until < {NOW} AND attempts >= :max RETURNING id, persist"),
        {"max": MAX_ATTEMPTS, "outcome": json.dumps(failure(
            ErrorCode.PROCESSING_FAILED, "The nodes running this job stopped responding.", 500))}).all()
    for row in failed:
        if row.persist:
            conn.execute(text("UPDATE jobs SET status = 'failed', error = 'The nodes running this job stopped"
                              " responding.', code = 'PROCESSING_FAILED', http_status = 500, updated_at = :now"
                              " WHERE id = :id AND status NOT IN ('completed', 'failed', 'canceled')"),
                         {"id": row.id, "now": time.time()})
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": JOBS_CHANNEL, "p": json.dumps({"id": row.id, "end": 1})})
    requeued = conn.execute(text(
        "UPDATE job_queue SET state = 'queued', node_id = NULL, lease_until = NULL"
        f" WHERE state = 'running' AND lease_until < {NOW} RETURNING family")).scalars().all()
    for family in set(requeued):
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": QUEUE_CHANNEL, "p": family})
    return len(requeued) + len(failed)


def leave(conn: Connection, node_id: str) -> int:
    families = conn.execute(text(
        "UPDATE job_queue SET state = 'queued', node_id = NULL, lease_until = NULL"
        " WHERE node_id = :id AND state = 'running' RETURNING family"), {"id": node_id}).scalars().all()
    for family in set(families):
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": QUEUE_CHANNEL, "p": family})
    conn.execute(text("DELETE FROM nodes WHERE id = :id"), {"id": node_id})
    return len(families)


def outcome_of(conn: Connection, job_id: str) -> dict[str, Any] | None:
    value = conn.execute(text("SELECT outcome FROM job_queue WHERE id = :id AND state = 'done'"), {"id": job_id}).scalar()
    return as_json(value)


def outcomes_of(conn: Connection, tool_ids: list[str], other_ids: list[str]) -> dict[str, dict[str, Any]]:
    ended = {}
    if tool_ids:
        for r in conn.execute(text("SELECT id, outcome FROM job_queue WHERE id = ANY(:ids) AND state = 'done'"),
                              {"ids": tool_ids}).all():
            if r.outcome is not None:
                ended[r.id] = as_json(r.outcome)
    if other_ids:
        for r in conn.execute(text(
                "SELECT id, status, result, error, code, http_status FROM jobs WHERE id = ANY(:ids)"
                " AND status IN ('completed', 'failed', 'canceled')"), {"ids": other_ids}).all():
            ended[r.id] = {"status": r.status, "result": as_json(r.result), "error": r.error, "code": r.code,
                           "httpStatus": r.http_status}
    return ended


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def health(conn: Connection) -> tuple[list[dict[str, Any]], dict[str, dict[str, int]]]:
    nodes = [{"id": r.id, "name": r.name, "role": r.role, "capacities": as_json(r.capacities),
              "running": as_json(r.running) or {}, "heartbeatAgeS": round(r.age, 2), "startedAt": r.started_at}
             for r in conn.execute(text(
                 f"SELECT id, name, role, capacities, running, started_at, {NOW} - heartbeat_at AS age FROM nodes"
                 " ORDER BY started_at")).all()]
    depth: dict[str, dict[str, int]] = {}
    for family, state, count in conn.execute(text(
            "SELECT family, state, count(*) FROM job_queue WHERE state IN ('queued', 'running')"
            " GROUP BY family, state")).all():
        depth.setdefault(family, {"queued": 0, "running": 0})[state] = count
    return nodes, depth


_CANCEL_JOB = ("UPDATE jobs SET status = 'canceled', error = 'The job was canceled.', code = 'CANCELED',"
               " http_status = 409, updated_at = :now WHERE id = :id AND status NOT IN ('completed', 'failed', 'canceled')")


class _Cancel(Write):
    def __init__(self) -> None:
        super().__init__(text(
            "UPDATE job_queue SET state = 'done', outcome = CAST(:outcome AS json), finished_at = " + NOW +
            " WHERE id = :id AND state = 'queued' RETURNING persist"))

    def __call__(self, conn: Connection, params: dict[str, Any]) -> None:
        persist = conn.execute(self.statement, params).scalar()
        if persist is None:  # running somewhere (or over): its node cancels it
            conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": params["c"], "p": params["id"]})
            # a batch or pipeline: ended here, so that no node resumes it (nor completes it over the cancel)
            if conn.execute(text(f"UPDATE coordinators SET state = 'done', lease_until = NULL, finished_at = {NOW}"
                                 " WHERE id = :id AND state = 'running'"), {"id": params["id"]}).rowcount:
                conn.execute(text(_CANCEL_JOB), {"id": params["id"], "now": time.time()})
                conn.execute(text("SELECT pg_notify(:c, :p)"),
                             {"c": JOBS_CHANNEL, "p": json.dumps({"id": params["id"], "end": 1})})
            return
        if persist:
            conn.execute(text(_CANCEL_JOB), {"id": params["id"], "now": time.time()})
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": JOBS_CHANNEL, "p": json.dumps({"id": params["id"], "end": 1})})


CANCEL = _Cancel()


def register(conn: Connection, node_id: str, name: str, role: str, capacities: dict[str, int],
             running: dict[str, int]) -> None:
    conn.execute(text(
        "INSERT INTO nodes (id, name, role, capacities, running, started_at, heartbeat_at)"
        f" VALUES (:id, :name, :role, CAST(:caps AS json), CAST(:running AS json), {NOW}, {NOW})"),
        {"id": node_id, "name": name, "role": role, "caps": json.dumps(capacities), "running": json.dumps(running)})
    # nodes silent for a day are forgotten (a crashed node's row is kept that long, for the operator)
    conn.execute(text(f"DELETE FROM nodes WHERE heartbeat_at < {NOW} - 86400"))


def notify(conn: Connection, channel: str, payload: str) -> None:
    """Announced when the surrounding transaction commits."""
    conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


def listening(conninfo: str):
    """A connection of its own, in autocommit, listening on every channel; read without blocking."""
    import psycopg

    conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    for channel in (QUEUE_CHANNEL, JOBS_CHANNEL, SETTINGS_CHANNEL, CANCEL_CHANNEL):
        conn.execute(f"LISTEN {channel}")
    conn.pgconn.nonblocking = 1
    return conn


def queue_state(conn: Connection, job_id: str) -> tuple[str | None, dict[str, Any] | None]:
    """(state, outcome) of a job's queue row; (None, None) when it was never queued."""
    row = conn.execute(text("SELECT state, outcome FROM job_queue WHERE id = :id"), {"id": job_id}).first()
    if row is None:
        return None, None
    return row.state, as_json(row.outcome) if row.state == "done" else None
