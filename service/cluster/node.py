"""One node of several acting as one service, on PostgreSQL alone: the durable job queue, node heartbeats,
and the fan-out of progress, job ends and settings changes. Used only when `Config.clustered` (DATABASE_URL is
PostgreSQL); a single SQLite box never loads it.

- A job is a row of `job_queue`. A node with a free slot for the job's family inserts it already claimed and
  starts it at once (no extra round trip); otherwise it is queued and any node with capacity for that family
  claims it with `FOR UPDATE SKIP LOCKED`, woken by NOTIFY (and a poll, should a wake-up be missed).
- A claim is a lease: the running node extends it with every heartbeat; a node that stops (SIGKILL, lost
  network) lets it lapse and the next heartbeat of any node puts the job back in the queue. Delivery is at
  least once, completion exactly once: only the current attempt of the current holder may mark a row done,
  in the same transaction that commits the job's state and announces it.
- Progress and job ends go out on NOTIFY; every node that holds the job's record (the one that took the
  request, one following its progress stream) applies them. A job end is read back from its row, and a
  periodic check catches any that a lost connection missed.
- A settings change is announced the same way and reloaded by every other node.
- Files are shared through STORAGE_ROOT (any shared filesystem): the queue carries paths relative to it.

Coordination stays on the database's own mechanisms: no node talks to another directly.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from actors.store.actor import StoreActor
from actors.store.repos import queue as q
from actors.store.repos import rate_windows as rates
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import Done, Failed, Job, JobEvent, JobState, Progress
from protocols.tools import REGISTRY, Limits, ToolCall, ToolSpec
from service.cluster.coordinators import ClusterLedger
from service.cluster.listener import listen
from service.jobs import result_body as jobs_result_body

if TYPE_CHECKING:
    from service.config import Config
    from service.jobs import JobManager
    from service.progress import JobRecord
    from service.runtime_settings import RuntimeSettings

log = logging.getLogger("lutra.cluster")

POLL_S = 2.0  # claims and job ends are also checked this often, should a NOTIFY be missed
PROGRESS_EVERY_S = 0.2  # a running job announces its progress at most this often


def node_name(config: Config) -> str:
    return config.node_name or f"{socket.gethostname()}:{config.port}"


class ClusterNode:
    def __init__(self, config: Config, store: StoreActor, jobs: JobManager, supervisor,
                 settings: RuntimeSettings) -> None:
        self.config = config
        self.store = store
        self.jobs = jobs
        self.supervisor = supervisor
        self.settings = settings
        self.name = node_name(config)
        self.id = f"{self.name}/{uuid.uuid4().hex[:8]}"
        self.storage = config.storage.resolve()
        self.capacities = {family.value: config.family_capacity(family.value) for family in supervisor.actors}
        self.running = dict.fromkeys(self.capacities, 0)
        self._attempts: dict[str, tuple[int, str, dict[str, Any]]] = {}  # running here: id -> (attempt, family, payload)
        self._last_progress: dict[str, float] = {}
        self._wake = trio.Event()
        # jobs may be waiting in the queue (a claim filled every free slot, or one was announced while none
        # was free): only then does a finishing job look for the next one before the poll would
        self._backlog = True
        self._limiter = trio.CapacityLimiter(2)  # the node's own connections (see db)
        self._nursery: trio.Nursery | None = None
        self.leaving = False
        self._finishing: set[str] = set()  # records whose end is being applied (see apply_outcome)
        self.ledger = jobs.ledger = ClusterLedger(self)  # batches' coordinators, durable and leased

    # ---- database --------------------------------------------------------------------------------------
    async def db(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(conn, *args)` in a transaction on a thread of the node's own, apart from the store's."""
        return await trio.to_thread.run_sync(self._transaction, fn, args, limiter=self._limiter)

    def _transaction(self, fn: Callable[..., Any], args: tuple) -> Any:
        with self.store.engine.begin() as conn:
            return fn(conn, *args)

    # ---- life ------------------------------------------------------------------------------------------
    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        await self.db(q.register, self.id, self.name, self.config.role, self.capacities, self.running)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(self._listen)
            nursery.start_soon(self._heartbeats)
            nursery.start_soon(self._catch_up)
            if any(self.capacities.values()):
                nursery.start_soon(self._claims)
            task_status.started()

    async def leave(self) -> None:
        """A clean stop: this node's running jobs go back to the queue at once (no lease to wait out) and
        its row goes; what its actors report after this is ignored."""
        self.leaving = True
        for job_id in list(self._attempts):  # stopped here first: its files are not written twice at once
            self.supervisor.cancel(job_id)
        try:
            with trio.fail_after(10):
                requeued = await self.db(q.leave, self.id)
                await self.ledger.release()
            if requeued:
                log.info("cluster: %d running jobs handed back to the queue", requeued)
        except Exception:
            log.exception("cluster: leaving cleanly failed; the leases of its jobs will lapse")

    def free(self, family: str) -> int:
        return self.capacities.get(family, 0) - self.running.get(family, 0)

    # ---- submitting (any node that takes requests) -----------------------------------------------------
    def enqueue(self, rec: JobRecord, spec: ToolSpec, call: ToolCall, deadline_s: float) -> None:
        """Queue a job; run it here at once when this node has a free slot for its family."""
        family = spec.family.value
        payload = {
            "settings": call.settings.model_dump(mode="json", by_alias=True),
            "inputs": [self._relative(p) for p in call.inputs], "names": list(call.names),
            "roles": list(call.roles), "workdir": self._relative(call.workdir),
            "limits": {"max_megapixels": call.limits.max_megapixels, "max_pdf_pages": call.limits.max_pdf_pages},
            "originalSize": rec.original_size, "deadlineS": deadline_s, "warnings": list(rec.warnings),
        }
        here = self.free(family) > 0
        self.store.post(q.ENQUEUE, {
            "id": rec.id, "family": family, "tool_id": spec.id, "payload": json.dumps(payload),
            "state": "running" if here else "queued", "node_id": self.id if here else None,
            "lease": self.config.lease_s if here else None, "attempts": 1 if here else 0,
            "persist": rec.persist, "created_at": rec.created_at,
        })
        if here:
            self._start(rec.id, spec.id, family, 1, payload, call)

    async def enqueue_once(self, rec: JobRecord, spec: ToolSpec, call: ToolCall, deadline_s: float) -> None:
        """Queue a job unless a resumed coordinator's earlier self did: then its record follows it (its end
        comes by NOTIFY or the periodic check), and one that ended is finished from its outcome at once."""
        state, outcome = await self.db(q.queue_state, rec.id)
        if state is None:
            self.enqueue(rec, spec, call, deadline_s)
        elif outcome is not None:
            await self.apply_outcome(rec, outcome, persisted=True)

    def cancel(self, job_id: str) -> None:
        """Cancel wherever it runs: a queued row ends at once, a running one is canceled by its node."""
        self.store.post(q.CANCEL, {"id": job_id, "c": q.CANCEL_CHANNEL,
                                  "outcome": json.dumps(q.failure(ErrorCode.CANCELED, "The job was canceled.", 409))})

    def _relative(self, path: Path) -> str:
        return str(Path(path).resolve().relative_to(self.storage))

    def _absolute(self, relative: str) -> Path:
        path = (self.storage / relative).resolve()
        if not path.is_relative_to(self.storage):  # rows are written by nodes, but never trusted with paths
            raise ValueError(f"path outside STORAGE_ROOT: {relative!r}")
        return path

    # ---- running (nodes with capacity) -----------------------------------------------------------------
    async def _claims(self) -> None:
        while True:
            free = {f: n for f in self.capacities if (n := self.free(f)) > 0}
            self._wake = trio.Event()  # reset before looking: a NOTIFY during the claim is not lost
            claimed = []
            if free:
                try:
                    claimed = await self.db(q.claim, self.id, free, self.config.lease_s)
                    self._backlog = len(claimed) == sum(free.values())
                except Exception:
                    log.exception("cluster: claiming jobs failed")
            else:
                self._backlog = True
            for row in claimed:
                self._start_row(row)
            with trio.move_on_after(POLL_S):
                await self._wake.wait()

    def _start_row(self, row: Any) -> None:
        payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload)
        try:
            spec = REGISTRY[row.tool_id]
            call = ToolCall(
                inputs=[self._absolute(p) for p in payload["inputs"]], names=payload["names"],
                settings=spec.settings.model_validate(payload["settings"]), workdir=self._absolute(payload["workdir"]),
                limits=Limits(**payload["limits"]), roles=payload["roles"])
        except Exception as err:
            log.exception("cluster: job %s cannot be run here", row.id)
            self.running[row.family] += 1
            self._attempts[row.id] = (row.attempts, row.family, payload)
            self._reply(row.id, Failed(row.id, ErrorCode.INTERNAL_ERROR, f"The job could not be started: {type(err).__name__}.", 500))
            return
        self._start(row.id, row.tool_id, row.family, row.attempts, payload, call)

    def _start(self, job_id: str, tool_id: str, family: str, attempt: int, payload: dict[str, Any],
               call: ToolCall) -> None:
        self.running[family] += 1
        self._attempts[job_id] = (attempt, family, payload)
        # its progress goes out once it has run a while: a job over in a moment sends none (its end suffices)
        self._last_progress[job_id] = time.monotonic()
        job = Job(id=job_id, tool_id=tool_id, call=call, deadline_s=payload["deadlineS"],
                  reply=lambda event: self._reply(job_id, event))
        try:
            self.supervisor.submit(job)
        except ApiError as err:
            self._reply(job_id, Failed(job_id, err.code, err.message, err.status))

    def _reply(self, job_id: str, event: JobEvent) -> None:
        """An actor's event for a job this node runs (in the actor's task: never raises)."""
        try:
            if isinstance(event, Progress):
                self._progress(job_id, event)
            else:
                self._end(job_id, event)
        except Exception:
            log.exception("cluster: handling job %s's event failed", job_id)

    def _progress(self, job_id: str, event: Progress) -> None:
        rec = self.jobs.records.get(job_id)
        message = event.message if event.message != "processing" else None
        if rec is not None:
            rec.update(status=JobState.PROCESSING, progress=event.progress, message=message)
        now = time.monotonic()
        if now - self._last_progress.get(job_id, 0.0) >= PROGRESS_EVERY_S:
            self._last_progress[job_id] = now
            self.store.post(q.NOTIFY, {"c": q.JOBS_CHANNEL, "p": json.dumps({"id": job_id, "p": event.progress, "m": message})})

    def _end(self, job_id: str, event: Done | Failed) -> None:
        if self.leaving:  # stopped by this node's shutdown: the job went back to the queue (leave)
            self._attempts.pop(job_id, None)
            return
        attempt, family, payload = self._attempts.pop(job_id)
        self._last_progress.pop(job_id, None)
        self.running[family] -= 1
        if self._backlog:
            self._wake.set()
        if isinstance(event, Done):
            try:
                outcome = {"status": "completed", "result": jobs_result_body(
                    job_id, event.result, payload["originalSize"], payload.get("warnings"))}
            except Exception:
                log.exception("cluster: job %s's outputs are unreadable", job_id)
                outcome = q.failure(ErrorCode.PROCESSING_FAILED, "The tool produced no readable output.", 422)
        else:
            status = "canceled" if event.code is ErrorCode.CANCELED else "failed"
            outcome = {**q.failure(event.code, event.message, event.status), "status": status}
        rec = self.jobs.records.get(job_id)
        params = {"id": job_id, "node": self.id, "attempt": attempt, "outcome": outcome,
                  "progress": rec.progress if rec is not None else 0.0}
        committed = trio.Event()
        self.store.post(q.COMPLETE, params, done=committed)
        if rec is not None and self._nursery is not None:
            self._nursery.start_soon(self._apply_when_committed, rec, params, committed)

    async def _apply_when_committed(self, rec: JobRecord, params: dict[str, Any], committed: trio.Event) -> None:
        await committed.wait()
        won = params.get("won")
        if won is None:  # the database refused the write (unreachable): the waiting client still gets its answer
            log.error("cluster: job %s's end could not be committed; answering from memory", rec.id)
        if won is not False:
            await self.apply_outcome(rec, params["outcome"], persisted=won is True)

    # ---- following jobs (any node holding a record) ----------------------------------------------------
    async def apply_outcome(self, rec: JobRecord, outcome: dict[str, Any], *, persisted: bool) -> None:
        """Finish a record from its job's committed outcome; a library auto-save waiting on it runs first."""
        # one way in only: the end reaches a record here from the job itself, its NOTIFY and the periodic
        # check, and a second arrival must not finish it while the first awaits its hook (library save)
        if rec.status.terminal or rec.id in self._finishing:
            return
        self._finishing.add(rec.id)
        try:
            status = JobState(outcome["status"])
            hook = self.jobs.before_finish.pop(rec.id, None)
            if status is JobState.COMPLETED and hook is not None:
                try:
                    await hook(rec, outcome["result"])  # it adds to the body, which is then stored again
                except Exception:
                    log.exception("cluster: job %s's finishing hook failed", rec.id)
            elif persisted:
                rec.persist = False  # the running node committed this very state already
            self.jobs.finish(rec, status, result=outcome.get("result"), error=outcome.get("error"),
                             code=outcome.get("code"), http_status=outcome.get("httpStatus"))
        finally:
            self._finishing.discard(rec.id)

    async def _follow_end(self, job_id: str) -> None:
        rec = self.jobs.records.get(job_id)
        if rec is None or rec.status.terminal:
            return
        if rec.kind == "tool":
            outcome = await self.db(q.outcome_of, job_id)
        else:  # a batch another node coordinates: its end is its job's row
            outcome = (await self.db(q.outcomes_of, [], [job_id])).get(job_id)
        if outcome is not None:
            await self.apply_outcome(rec, outcome, persisted=True)

    async def _catch_up(self) -> None:
        """Records still open here whose job ended elsewhere, in case its NOTIFY was lost (a reconnect), and
        batches or pipelines that another node coordinates (their end is read from their row)."""
        while True:
            await trio.sleep(POLL_S)
            open_recs = [r for r in list(self.jobs.records.values()) if not r.status.terminal
                         and r.id not in self._attempts and (r.kind == "tool" or r.id in self.jobs.followed)]
            if not open_recs:
                continue
            try:
                ended = await self.db(q.outcomes_of, [r.id for r in open_recs if r.kind == "tool"],
                                       [r.id for r in open_recs if r.kind != "tool"])
            except Exception:
                log.exception("cluster: checking job ends failed")
                continue
            for job_id, outcome in ended.items():
                rec = self.jobs.records.get(job_id)
                if rec is not None:
                    await self.apply_outcome(rec, outcome, persisted=True)

    # ---- notifications -----------------------------------------------------------------------------------
    async def _listen(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        url = self.store.engine.url.set(drivername="postgresql")
        await listen(url.render_as_string(hide_password=False), self._on_notify, self._reconnected,
                     task_status=task_status)

    async def _reconnected(self) -> None:
        """Announcements made while the connection was down are gone: everything is checked again."""
        self._wake.set()
        await self.settings.load()

    def _on_notify(self, channel: str, payload: str) -> None:
        try:
            if channel == q.QUEUE_CHANNEL:
                if self.free(payload) > 0:
                    self._wake.set()
                else:
                    self._backlog = True
            elif channel == q.JOBS_CHANNEL:
                note = json.loads(payload)
                rec = self.jobs.records.get(note["id"])
                if rec is None or rec.status.terminal or note["id"] in self._attempts or note["id"] in self.ledger.held:
                    return
                if note.get("end"):
                    assert self._nursery is not None
                    self._nursery.start_soon(self._guarded, self._follow_end, note["id"])
                else:
                    if note.get("b") is not None:  # a batch's counts, from the node coordinating it
                        rec.batch = note["b"]
                    rec.update(status=JobState.PROCESSING, progress=note["p"], message=note.get("m"))
            elif channel == q.SETTINGS_CHANNEL:
                if payload != self.id and self._nursery is not None:
                    self._nursery.start_soon(self._guarded, self.settings.load)
            elif channel == q.CANCEL_CHANNEL and payload in self._attempts:
                self.supervisor.cancel(payload)
            elif channel == q.CANCEL_CHANNEL and payload in self.ledger.held:  # canceled on another node
                rec = self.jobs.records.get(payload)
                if rec is not None:
                    self.jobs.cancel(rec)
        except Exception:
            log.exception("cluster: a %s notification could not be handled", channel)

    @staticmethod
    async def _guarded(fn: Callable[..., Any], *args: Any) -> None:
        try:
            await fn(*args)
        except Exception:
            log.exception("cluster: %s failed", getattr(fn, "__name__", fn))

    def settings_changed(self, conn: Any) -> None:
        """Called inside the transaction that changed settings: the other nodes reload on commit."""
        q.notify(conn, q.SETTINGS_CHANNEL, self.id)

    # ---- heartbeats, leases, health ----------------------------------------------------------------------
    async def _heartbeats(self) -> None:
        pruned = 0.0
        while True:
            try:
                requeued = await self.db(q.heartbeat, self.id, self.running, list(self._attempts), self.config.lease_s)
                if requeued:
                    log.warning("cluster: %d jobs of silent nodes went back to the queue", requeued)
                await self.ledger.heartbeat()
                if time.monotonic() - pruned > rates.WINDOW_S:
                    pruned = time.monotonic()
                    await self.db(rates.prune)
            except Exception:
                log.exception("cluster: heartbeat failed")
            await trio.sleep(self.config.heartbeat_s)

    async def health(self) -> dict[str, Any]:
        nodes, depth = await self.db(q.health)
        return {"nodeId": self.id, "role": self.config.role, "capacities": self.capacities,
                "leaseS": self.config.lease_s, "nodes": nodes, "queueDepth": depth}
