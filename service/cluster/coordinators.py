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

from actors.store.repos import queue as q
from actors.store.repos.coordinators import (
    batch_state,
    complete_coordinator,
    end_coordinator,
    insert_coordinator,
    item_outcomes,
    lease_coordinators,
    record_item,
    release_coordinators,
)
from actors.store.repos.queue import as_json
from protocols.jobs import JobState
from service import batches
from service.batches import Plan

if TYPE_CHECKING:
    from service.cluster.node import ClusterNode
    from service.progress import JobRecord

log = logging.getLogger("lutra.cluster")

PROGRESS_EVERY_S = 0.2  # a coordinator announces its progress at most this often (an item's end always)


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
