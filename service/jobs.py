"""The job manager: creates jobs, hands them to actors, receives their events, keeps the records,
persists state, and starts the coordinators of batches (service.batches). Jobs belong to it, not to
HTTP requests."""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import trio

from actors.store.actor import StoreActor
from actors.store.repos import jobs as stored_jobs
from actors.supervisor import Supervisor
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import Done, Failed, Job, JobEvent, JobState, Progress
from protocols.tools import Limits, Mode, ToolCall, ToolResult, ToolSpec
from service import batches
from service.batches import LocalLedger, Plan
from service.config import Config
from service.progress import JobRecord
from service.spool import Spool

if TYPE_CHECKING:
    from service.batches import Ledger
    from service.cluster import ClusterNode

log = logging.getLogger("lutra.jobs")

MAX_RECORDS = 5000
BATCH_KINDS = frozenset({"batch", "pipeline-batch", "pipeline"})
JANITOR_GATHER_S = 0.25  # finished uploads gather this long before one trip to a thread removes them all


def new_job_id() -> str:
    """Download URLs are capabilities: the id is the secret, so it is random (122 bits)."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def download_url(job_id: str, filename: str) -> str:
    return f"/api/v1/download/{job_id}/{quote(filename)}"


def result_body(job_id: str, result: ToolResult, original_size: int,
                warnings: list[str] | None = None) -> dict[str, Any]:
    """A finished tool job's 200 body: its primary output, the others as `downloads`, the tool's extras
    and the warnings about its request (unknown settings)."""
    primary = result.outputs[0]
    body: dict[str, Any] = {"jobId": job_id, "downloadUrl": download_url(job_id, primary.name),
                            "originalSize": original_size, "processedSize": primary.stat().st_size}
    if len(result.outputs) > 1:
        body["downloads"] = [{"filename": p.name, "downloadUrl": download_url(job_id, p.name), "size": p.stat().st_size}
                             for p in result.outputs[1:]]
    for key, value in result.extra.items():
        body.setdefault(key, value)
    if warnings:
        body["warnings"] = list(warnings)
    return body


class JobManager:
    def __init__(self, config: Config, store: StoreActor, supervisor: Supervisor) -> None:
        self.config = config
        self.store = store
        self.supervisor = supervisor
        self.records: OrderedDict[str, JobRecord] = OrderedDict()
        self._nursery: trio.Nursery | None = None
        self._trash: list[Path] = []  # finished jobs' upload folders, for the janitor
        self.spool = Spool(spool_folder(config))  # what the janitor keeps of them, for new uploads
        self._trash_added = trio.Event()
        # job id -> async hook(rec, body) run before a completed job is finished (library auto-save)
        self.before_finish: dict[str, Callable[[JobRecord, dict[str, Any]], Awaitable[None]]] = {}
        self.limits = Limits(max_megapixels=config.max_megapixels, max_pdf_pages=config.max_pdf_pages)
        self.cluster: ClusterNode | None = None  # several nodes: jobs go through the PostgreSQL queue
        self.followed: set[str] = set()  # records of jobs another node took the request for (see get)
        self.ledger: Ledger = LocalLedger(self)  # where batch coordinators keep their state

    # ---- paths ----------------------------------------------------------------------------
    def job_dir(self, job_id: str) -> Path:
        return self.config.workspace / job_id

    def out_dir(self, job_id: str) -> Path:
        return self.job_dir(job_id) / "out"

    # ---- life -----------------------------------------------------------------------------
    async def recover(self) -> None:
        """Jobs that were running when the process died are failed, with a reason. (With several nodes a
        node's start says nothing about the others' jobs: their leases decide, see service.cluster.)"""
        if self.config.clustered:
            return

        count = await self.store.call(
            stored_jobs.fail_unfinished, [JobState.QUEUED.value, JobState.PROCESSING.value], JobState.FAILED.value,
            "The server restarted while this job was running.", ErrorCode.INTERNAL_ERROR.value, 500)
        if count:
            log.warning("marked %d interrupted jobs as failed", count)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        await trio.to_thread.run_sync(self.spool.reset)
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            nursery.start_soon(self._sweep_loop)
            nursery.start_soon(self._janitor)
            task_status.started()
            await trio.sleep_forever()

    def _deliver(self, event: JobEvent) -> None:
        """An actor's reply, handled at once in the actor's task (never raising into it): a job's result
        then reaches its waiting request without one more task switch on the way."""
        try:
            self._on_event(event)
        except Exception:
            log.exception("job event handling failed")

    def spawn(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """Run a coordinator (batch, pipeline) in the manager's nursery; it must catch its own errors."""
        assert self._nursery is not None
        async def guarded() -> None:
            try:
                await fn(*args)
            except Exception:
                log.exception("job coordinator failed")

        self._nursery.start_soon(guarded)

    # ---- records --------------------------------------------------------------------------
    def create(self, owner_id: str | None, kind: str, tool_id: str | None, *, persist: bool = True,
               job_id: str | None = None) -> JobRecord:
        rec = JobRecord(job_id or new_job_id(), owner_id, kind, tool_id, persist=persist)
        self.records[rec.id] = rec
        self._evict()
        if persist:
            self.store.post(stored_jobs.INSERT, {
                "id": rec.id, "owner_id": owner_id, "kind": kind, "tool_id": tool_id, "status": JobState.QUEUED.value,
                "progress": 0, "created_at": rec.created_at, "updated_at": rec.created_at,
            })
        return rec

    def _evict(self) -> None:
        while len(self.records) > MAX_RECORDS:
            oldest_id, oldest = next(iter(self.records.items()))
            if not oldest.status.terminal:
                self.records.move_to_end(oldest_id)
                if all(not r.status.terminal for r in self.records.values()):
                    return
                continue
            self.records.pop(oldest_id)
            self.followed.discard(oldest_id)

    async def get(self, job_id: str) -> JobRecord | None:
        rec = self.records.get(job_id)
        if rec is not None:
            return rec
        row = await self.store.call(stored_jobs.by_id, job_id)
        if row is None:
            return None
        rec = JobRecord.from_row(row)
        if self.cluster is not None and not rec.status.terminal:
            # running on another node: kept here, so its progress and end (NOTIFY) reach this record
            rec = self.records.setdefault(rec.id, rec)
            self.followed.add(rec.id)
            self._evict()
            if rec.kind in BATCH_KINDS and rec.batch is None:  # its counts so far, from its coordinator
                rec.batch = await self.ledger.batch_state(rec.id)
        return rec

    def finish(self, rec: JobRecord, status: JobState, **kwargs: Any) -> None:
        if rec.status.terminal:
            return
        rec.finish(status, **kwargs)
        if rec.persist:
            self.store.post(stored_jobs.FINISH, {
                "b_id": rec.id, "b_status": rec.status.value, "b_progress": rec.progress, "b_message": rec.message,
                "b_result": rec.result, "b_error": rec.error, "b_code": rec.code, "b_http_status": rec.http_status,
                "b_updated_at": rec.updated_at,
            }, done=rec.persisted)
        else:
            rec.persisted.set()
        self._drop_inputs(rec.id)

    def _drop_inputs(self, job_id: str) -> None:
        """A finished job's uploads are not needed any more (its outputs are what is downloaded): removing
        them at once halves the workspace's disk use, often before the kernel writes them back. Removing
        costs about a millisecond per few MB, so it is not done on the way to the response: the janitor
        gathers the folders for JANITOR_GATHER_S and removes them in one trip to a thread, keeping some
        files in the spool for new uploads to be written over."""
        folder = self.job_dir(job_id) / "in"
        if self._nursery is None:
            shutil.rmtree(folder, ignore_errors=True)
            return
        self._trash.append(folder)
        self._trash_added.set()

    async def _janitor(self) -> None:
        try:
            while True:
                await self._trash_added.wait()
                await trio.sleep(JANITOR_GATHER_S)
                self._trash_added = trio.Event()
                batch, self._trash = self._trash, []
                try:
                    await trio.to_thread.run_sync(self._reclaim_all, batch)
                except Exception:
                    log.exception("removing finished jobs' uploads failed")
        finally:  # at shutdown, what is still gathering goes too (not left for the sweep, hours later)
            batch, self._trash = self._trash, []
            _remove_all(batch)

    def _reclaim_all(self, folders: list[Path]) -> None:
        for folder in folders:
            self.spool.reclaim(folder)

    # ---- running tools --------------------------------------------------------------------
    def deadline_for(self, spec: ToolSpec) -> float:
        return self.config.job_timeout_long_s if spec.mode is Mode.LONG else self.config.job_timeout_fast_s

    async def submit_tool_once(self, rec: JobRecord, spec: ToolSpec, call: ToolCall) -> None:
        """A resumed coordinator's child: queued unless an earlier coordinator queued it (then followed)."""
        if self.cluster is None:
            self.submit_tool(rec, spec, call)
        else:
            await self.cluster.enqueue_once(rec, spec, call, self.deadline_for(spec))

    def submit_tool(self, rec: JobRecord, spec: ToolSpec, call: ToolCall) -> None:
        if self.cluster is not None:
            self.cluster.enqueue(rec, spec, call, self.deadline_for(spec))
            return
        job = Job(id=rec.id, tool_id=spec.id, call=call, deadline_s=self.deadline_for(spec), reply=self._deliver)
        try:
            self.supervisor.submit(job)
        except ApiError as err:
            self.finish(rec, JobState.FAILED, error=err.message, code=err.code.value, http_status=err.status)
            raise

    def cancel(self, rec: JobRecord) -> bool:
        if rec.status.terminal:
            return False
        cancel = self._cancel_anywhere
        hit = cancel(rec.id)
        if rec.batch is not None:  # a batch or pipeline: cancel its children, then itself
            for child_id in rec.batch.get("_children", []):
                cancel(child_id)
            hit = True
        if hit:
            rec.update(message="canceling")
            if rec.kind != "tool":
                self.finish(rec, JobState.CANCELED, error="The job was canceled.", code=ErrorCode.CANCELED.value,
                            http_status=409)
        return hit

    def _cancel_anywhere(self, job_id: str) -> bool:
        if self.cluster is None:
            return self.supervisor.cancel(job_id)
        self.supervisor.cancel(job_id)  # at once if it runs here; the queue tells whichever node runs it
        self.cluster.cancel(job_id)
        return True

    def _on_event(self, event: JobEvent) -> None:
        rec = self.records.get(event.job_id)
        if rec is None:
            return
        if isinstance(event, Progress):
            rec.update(status=JobState.PROCESSING, progress=event.progress,
                       message=event.message if event.message != "processing" else None)
        elif isinstance(event, Done):
            body = result_body(rec.id, event.result, rec.original_size, rec.warnings)
            hook = self.before_finish.pop(rec.id, None)
            if hook is None:
                self.finish(rec, JobState.COMPLETED, result=body)
            else:
                self.spawn(self._finish_after, rec, hook, body)
        elif isinstance(event, Failed):
            self.before_finish.pop(rec.id, None)
            status = JobState.CANCELED if event.code is ErrorCode.CANCELED else JobState.FAILED
            self.finish(rec, status, error=event.message, code=event.code.value, http_status=event.status)

    async def _finish_after(self, rec: JobRecord, hook, body: dict[str, Any]) -> None:
        try:
            await hook(rec, body)
        finally:
            self.finish(rec, JobState.COMPLETED, result=body)

    async def wait(self, rec: JobRecord, timeout_s: float) -> bool:
        """Wait for the job to end and its state to be committed, so a 200 survives a crash. (An event
        already set is not awaited: awaiting it would still yield to every other runnable task first, which
        puts other requests' work on this response's path.)"""
        with trio.move_on_after(timeout_s):
            await rec.done.wait()
            if not rec.persisted.is_set():  # usually committed already (StoreActor.post)
                await rec.persisted.wait()
        return rec.done.is_set()

    # ---- batches and pipelines ----------------------------------------------------------
    async def coordinate(self, parent: JobRecord, plan: Plan) -> None:
        """Start a batch-like job's coordinator here, after its plan is in the ledger (durable with several
        nodes: another node resumes it should this one die)."""
        await self.ledger.begin(parent, plan)
        self.spawn(batches.guarded, self, parent, lambda: run_plan(self, parent, plan, resumed=False))

    # ---- workspace sweep ------------------------------------------------------------------
    async def _sweep_loop(self) -> None:
        while True:
            try:
                await trio.to_thread.run_sync(self.sweep_once)
            except Exception:
                log.exception("workspace sweep failed")
            await trio.sleep(600)

    def sweep_once(self, now: float | None = None) -> int:
        """Remove workspace folders older than FILE_MAX_AGE_HOURS whose job is not running."""
        if self.config.file_max_age_hours <= 0 or not self.config.workspace.exists():
            return 0
        cutoff = (now or time.time()) - self.config.file_max_age_hours * 3600
        removed = 0
        for entry in self.config.workspace.iterdir():
            rec = self.records.get(entry.name)
            if rec is not None and not rec.status.terminal:
                continue
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


async def run_plan(jobs: JobManager, parent: JobRecord, plan: Plan, *, resumed: bool) -> None:
    from service import pipelines

    if plan.kind == "batch":
        await batches.run_tool_batch(jobs, parent, plan, resumed=resumed)
    elif plan.kind == "pipeline":
        await pipelines.run_single(jobs, parent, plan, resumed=resumed)
    else:
        await pipelines.run_batch(jobs, parent, plan, resumed=resumed)


def spool_folder(config: Config) -> Path:
    """Next to the workspace it feeds (uploads are renamed out of it); with several nodes on one storage
    root, one folder per node, since each empties its own at start."""
    if not config.clustered:
        return config.data_dir / "spool"
    from service.cluster import node_name

    return config.storage / "spool" / re.sub(r"[^A-Za-z0-9._-]", "_", node_name(config))


def _remove_all(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
