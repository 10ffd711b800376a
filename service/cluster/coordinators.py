"""Batch and pipeline coordinators that outlive their node: the ledger (service.batches.Ledger) on
PostgreSQL, and the lease that lets another node resume a coordinator whose node died.

- `coordinators` holds a batch's plan (tool or steps, settings, items with paths relative to STORAGE_ROOT)
  and its lease: the coordinating node extends it with every heartbeat; when it lapses, the next heartbeat
  of any node takes it (FOR UPDATE SKIP LOCKED, attempts + 1) and resumes the coordinator there.
- `coordinator_items` holds each finished item's outcome, written once (the first one stays): a resumed
  coordinator never runs those again and zips their files as they are.
- The batch completes once: only the holder of the current attempt may mark the row done, in the same
  statement that commits the parent job's state (and only while that job is still open: a cancel made on
  another node wins) and announces its end.
- Progress goes out on the jobs channel with the batch's counts, so a stream on any node follows it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, text

from protocols.errors import ErrorCode
from protocols.jobs import JobState
from service import batches
from service.batches import Plan
from service.cluster import queue as q
from service.cluster.queue import NOW, as_json

if TYPE_CHECKING:
    from service.cluster.node import ClusterNode
    from service.progress import JobRecord

log = logging.getLogger("lutra.cluster")

PROGRESS_EVERY_S = 0.2  # a coordinator announces its progress at most this often (an item's end always)
RESUME_AT_ONCE = 4  # lapsed coordinators one heartbeat takes over at most


class ClusterLedger:
    def __init__(self, node: ClusterNode) -> None:
        self.node = node
        self.jobs = node.jobs
        self.held: dict[str, int] = {}  # coordinators running here: parent id -> attempt
        self._announced: dict[str, float] = {}

    # ---- the ledger (service.batches.Ledger) ----------------------------------------------------------
    async def begin(self, parent: JobRecord, plan: Plan) -> None:
        stored = {**plan_json(plan, self.node._relative), "originalSize": parent.original_size,
                  "warnings": list(parent.warnings)}
        await self.node.db(insert_coordinator, parent.id, plan.kind, stored, self.node.id, self.node.config.lease_s)
        self.held[parent.id] = 1

    async def finished(self, parent_id: str) -> dict[int, dict[str, Any]]:
        return await self.node.db(item_outcomes, parent_id)

    async def record(self, parent: JobRecord, index: int, outcome: dict[str, Any]) -> None:
        self._announced[parent.id] = time.monotonic()
        await self.node.db(record_item, parent.id, index, outcome, _note(parent))

    def progress(self, parent: JobRecord) -> None:
        now = time.monotonic()
        if now - self._announced.get(parent.id, 0.0) >= PROGRESS_EVERY_S:
            self._announced[parent.id] = now
            self.node.store.post(q.NOTIFY, {"c": q.JOBS_CHANNEL, "p": json.dumps(_note(parent))})

    async def complete(self, parent: JobRecord, status: JobState, **fields: Any) -> None:
        attempt = self.held.pop(parent.id, None)
        self._announced.pop(parent.id, None)
        if attempt is None:  # never in the ledger (a pipeline saving into the library): a plain end
            self.jobs.finish(parent, status, **fields)
            return
        won = await self.node.db(complete_coordinator, parent.id, self.node.id, attempt, status.value, fields)
        if won:
            parent.persist = False  # committed above, with the coordinator's end
            self.jobs.finish(parent, status, **fields)
        else:  # another node took it over (or it was canceled elsewhere): its end is read from its row
            log.warning("cluster: batch %s is no longer coordinated here; following it", parent.id)
            self.jobs.followed.add(parent.id)

    async def batch_state(self, parent_id: str) -> dict[str, Any] | None:
        return await self.node.db(batch_state, parent_id)

    # ---- leases (from the node's heartbeat) ------------------------------------------------------------
    async def heartbeat(self) -> None:
        for parent_id in [p for p in self.held if (r := self.jobs.records.get(p)) is None or r.status.terminal]:
            self.held.pop(parent_id, None)  # ended (canceled) without completing here
        taken = await self.node.db(lease_coordinators, self.node.id, list(self.held), self.node.config.lease_s)
        for row in taken:
            try:
                await self.resume(row)
            except Exception:
                log.exception("cluster: batch %s could not be resumed here", row.id)

    async def resume(self, row: Any) -> None:
        """Take over a coordinator whose node stopped: the same plan, its finished items kept."""
        stored = as_json(row.plan)
        rec = await self.jobs.get(row.id)
        if rec is None or rec.status.terminal:
            await self.node.db(end_coordinator, row.id)
            return
        log.warning("cluster: resuming batch %s (attempt %d)", row.id, row.attempts)
        self.jobs.followed.discard(rec.id)
        rec.original_size = stored.get("originalSize", 0)
        rec.warnings = list(stored.get("warnings", []))
        plan = plan_from_json(row.kind, stored, self.node._absolute)
        self.held[rec.id] = row.attempts
        from service.jobs import run_plan

        self.jobs.spawn(batches.guarded, self.jobs, rec, lambda: run_plan(self.jobs, rec, plan, resumed=True))

    async def release(self) -> None:
        """A clean stop: this node's coordinators are handed over at once (their lease ends now)."""
        if self.held:
            await self.node.db(release_coordinators, self.node.id, list(self.held))
            self.held.clear()


def _note(parent: JobRecord) -> dict[str, Any]:
    """A progress announcement with the batch's public counts (the children's ids stay on this node)."""
    public = {k: v for k, v in (parent.batch or {}).items() if not k.startswith("_")}
    return {"id": parent.id, "p": parent.progress, "m": parent.message, "b": public}


def plan_json(plan: Plan, relative) -> dict[str, Any]:
    return {
        "out": relative(plan.out), "items": [[i, relative(p), n] for i, p, n in plan.items],
        "rejected": plan.rejected, "toolId": plan.tool_id, "settings": plan.settings,
        "shared": [[relative(p), n, r] for p, n, r in plan.shared], "steps": plan.steps,
        "concurrency": plan.concurrency,
    }


def plan_from_json(kind: str, stored: dict[str, Any], absolute) -> Plan:
    return Plan(
        kind=kind, out=absolute(stored["out"]), items=[(int(i), absolute(p), n) for i, p, n in stored["items"]],
        rejected=stored.get("rejected", []), tool_id=stored.get("toolId", ""), settings=stored.get("settings", {}),
        shared=[(absolute(p), n, r) for p, n, r in stored.get("shared", [])], steps=stored.get("steps", []),
        concurrency=int(stored.get("concurrency", 1)))


# ---- SQL -------------------------------------------------------------------------------------------------

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

