"""The coordinators' ledger on PostgreSQL (service.cluster.coordinators decides when each runs): a batch's
plan when it starts, each item's first outcome, its lease (extended by the node's heartbeat, taken over
when it lapses), and its completion, exactly once and only by the lease's current holder."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Connection, text

from actors.store.repos import queue as q
from actors.store.repos.queue import NOW, as_json
from protocols.errors import ErrorCode

RESUME_AT_ONCE = 4  # lapsed coordinators one heartbeat takes over at most

def insert_coordinator(conn: Connection, parent_id: str, kind: str, plan: dict[str, Any], node_id: str,
                       lease_s: float) -> None:
    conn.execute(text(
        "INSERT INTO coordinators (id, kind, plan, state, node_id, lease_until, attempts, created_at)"
        f" VALUES (:id, :kind, CAST(:plan AS json), 'running', :node, {NOW} + :lease, 1, {NOW})"),
        {"id": parent_id, "kind": kind, "plan": json.dumps(plan), "node": node_id, "lease": lease_s})


def item_outcomes(conn: Connection, parent_id: str) -> dict[int, dict[str, Any]]:
    rows = conn.execute(text("SELECT idx, outcome FROM coordinator_items WHERE coordinator_id = :id"),
                        {"id": parent_id}).all()
    return {r.idx: as_json(r.outcome) for r in rows}


def record_item(conn: Connection, parent_id: str, index: int, outcome: dict[str, Any], note: dict[str, Any]) -> None:
    conn.execute(text(
        "INSERT INTO coordinator_items (coordinator_id, idx, outcome, finished_at)"
        f" VALUES (:id, :idx, CAST(:outcome AS json), {NOW}) ON CONFLICT DO NOTHING"),
        {"id": parent_id, "idx": index, "outcome": json.dumps(outcome)})
    conn.execute(text("UPDATE coordinators SET progress = CAST(:progress AS json) WHERE id = :id"),
                 {"id": parent_id, "progress": json.dumps(note)})
    conn.execute(text("UPDATE jobs SET status = 'processing', progress = :p, message = :m WHERE id = :id"
                      " AND status NOT IN ('completed', 'failed', 'canceled')"),
                 {"id": parent_id, "p": note["p"], "m": note["m"]})
    q.notify(conn, q.JOBS_CHANNEL, json.dumps(note))


def batch_state(conn: Connection, parent_id: str) -> dict[str, Any] | None:
    value = conn.execute(text("SELECT progress FROM coordinators WHERE id = :id"), {"id": parent_id}).scalar()
    note = as_json(value)
    return note.get("b") if isinstance(note, dict) else None


def complete_coordinator(conn: Connection, parent_id: str, node_id: str, attempt: int, status: str,
                         fields: dict[str, Any]) -> bool:
    row = conn.execute(text(
        "WITH c AS (UPDATE coordinators SET state = 'done', lease_until = NULL, finished_at = " + NOW +
        "           WHERE id = :id AND state = 'running' AND node_id = :node AND attempts = :attempt RETURNING id),"
        " j AS (UPDATE jobs SET status = :status, progress = :progress, result = CAST(:result AS json),"
        "           error = :error, code = :code, http_status = :http_status, updated_at = :now"
        "       WHERE id IN (SELECT id FROM c) AND status NOT IN ('completed', 'failed', 'canceled') RETURNING id)"
        " SELECT pg_notify(:c, :note), (SELECT count(*) FROM j) AS won FROM c"), {
        "id": parent_id, "node": node_id, "attempt": attempt, "status": status,
        "progress": 100.0 if status == "completed" else 0.0,
        "result": json.dumps(fields["result"]) if fields.get("result") is not None else None,
        "error": fields.get("error"), "code": fields.get("code"), "http_status": fields.get("http_status"),
        "now": time.time(), "c": q.JOBS_CHANNEL, "note": json.dumps({"id": parent_id, "end": 1})}).first()
    return row is not None and row.won == 1


def lease_coordinators(conn: Connection, node_id: str, held: list[str], lease_s: float) -> list[Any]:
    """Extend this node's leases, close coordinators whose job ended elsewhere, fail those whose nodes
    died too often, and take over (at most RESUME_AT_ONCE) whose lease lapsed."""
    if held:
        conn.execute(text(f"UPDATE coordinators SET lease_until = {NOW} + :lease"
                          " WHERE node_id = :node AND state = 'running' AND id = ANY(:held)"),
                     {"node": node_id, "lease": lease_s, "held": held})
    conn.execute(text(
        f"UPDATE coordinators SET state = 'done', lease_until = NULL, finished_at = {NOW}"
        " WHERE state = 'running' AND id IN (SELECT id FROM jobs WHERE status IN ('completed', 'failed', 'canceled'))"))
    failed = conn.execute(text(
        f"UPDATE coordinators SET state = 'done', lease_until = NULL, finished_at = {NOW}"
        f" WHERE state = 'running' AND lease_until < {NOW} AND attempts >= :max RETURNING id"),
        {"max": q.MAX_ATTEMPTS}).scalars().all()
    for parent_id in failed:
        conn.execute(text(
            "UPDATE jobs SET status = 'failed', error = 'The nodes coordinating this batch stopped responding.',"
            " code = :code, http_status = 500, updated_at = :now WHERE id = :id"
            " AND status NOT IN ('completed', 'failed', 'canceled')"),
            {"id": parent_id, "code": ErrorCode.PROCESSING_FAILED.value, "now": time.time()})
        q.notify(conn, q.JOBS_CHANNEL, json.dumps({"id": parent_id, "end": 1}))
    return conn.execute(text(
        f"UPDATE coordinators SET node_id = :node, lease_until = {NOW} + :lease, attempts = attempts + 1"
        " WHERE id IN (SELECT id FROM coordinators WHERE state = 'running' AND lease_until < " + NOW +
        "              ORDER BY created_at LIMIT :n FOR UPDATE SKIP LOCKED)"
        " RETURNING id, kind, plan, attempts"), {"node": node_id, "lease": lease_s, "n": RESUME_AT_ONCE}).all()


def end_coordinator(conn: Connection, parent_id: str) -> None:
    conn.execute(text(f"UPDATE coordinators SET state = 'done', lease_until = NULL, finished_at = {NOW}"
                      " WHERE id = :id"), {"id": parent_id})


def release_coordinators(conn: Connection, node_id: str, held: list[str]) -> None:
    conn.execute(text(f"UPDATE coordinators SET lease_until = {NOW} WHERE node_id = :node AND state = 'running'"
                      " AND id = ANY(:held)"), {"node": node_id, "held": held})

