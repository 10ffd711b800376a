"""The job manager: creates jobs, hands them to actors, receives their events, keeps the records,
persists state, and runs the coordinators of batches. Jobs belong to it, not to HTTP requests."""

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
from urllib.parse import quote, unquote

import trio
from sqlalchemy import bindparam, insert, select, update

from actors.archive import Archive
from actors.store import schema
from actors.store.actor import StoreActor, Write
from actors.supervisor import Supervisor
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import Done, Failed, Job, JobEvent, JobState, Progress
from protocols.tools import Limits, Mode, ToolCall, ToolResult, ToolSpec
from service.config import Config
from service.progress import JobRecord
from service.spool import Spool

if TYPE_CHECKING:
    from service.cluster import ClusterNode

log = logging.getLogger("lutra.jobs")

MAX_RECORDS = 5000
JANITOR_GATHER_S = 0.25  # finished uploads gather this long before one trip to a thread removes them all


def new_job_id() -> str:
    """Download URLs are capabilities: the id is the secret, so it is random (122 bits)."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def download_url(job_id: str, filename: str) -> str:
    return f"/api/v1/download/{job_id}/{quote(filename)}"


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

        def mark(conn):
            return conn.execute(
                update(schema.jobs)
                .where(schema.jobs.c.status.in_([JobState.QUEUED.value, JobState.PROCESSING.value]))
                .values(
                    status=JobState.FAILED.value,
                    error="The server restarted while this job was running.",
                    code=ErrorCode.INTERNAL_ERROR.value,
                    http_status=500,
                    updated_at=time.time(),
                )
            ).rowcount

        count = await self.store.call(mark)
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
            self.store.post(_INSERT_JOB, {
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
        row = await self.store.call(
            lambda conn: conn.execute(select(schema.jobs).where(schema.jobs.c.id == job_id)).first()
        )
        if row is None:
            return None
        rec = JobRecord.from_row(row)
        if self.cluster is not None and not rec.status.terminal:
            # running on another node: kept here, so its progress and end (NOTIFY) reach this record
            rec = self.records.setdefault(rec.id, rec)
            self.followed.add(rec.id)
            self._evict()
        return rec

    def finish(self, rec: JobRecord, status: JobState, **kwargs: Any) -> None:
        if rec.status.terminal:
            return
        rec.finish(status, **kwargs)
        if rec.persist:
            self.store.post(_FINISH_JOB, {
                "b_id": rec.id, "b_status": rec.status.value, "b_progress": rec.progress, "b_message": rec.message,
                "b_result": rec.result, "b_error": rec.error, "b_code": rec.code, "b_http_status": rec.http_status,
                "b_updated_at": rec.updated_at,
            }, done=rec.persisted)
        else:
            rec.persisted.set()
        self._drop_inputs(rec.id)

    def _drop_inputs(self, job_id: str) -> None:
        """A finished job's uploads are not needed any more (its outputs are what is downloaded). Removing
        them at once halves the workspace's disk use, and most are gone before the kernel writes them back,
        which saves that disk write (and its CPU) for every upload. Removing a file costs about a
        millisecond per few MB, so it is not done here, on the way to the job's response: the folders go
        to the janitor, which lets them gather for JANITOR_GATHER_S and then removes them all in one trip to
        a thread (rather than one trip, with its thread hand-offs, per job under load), keeping some files
        in the spool for new uploads to be written over."""
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
            body = self.result_body(rec, event.result)
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

    def result_body(self, rec: JobRecord, result: ToolResult) -> dict[str, Any]:
        primary = result.outputs[0]
        body: dict[str, Any] = {
            "jobId": rec.id,
            "downloadUrl": download_url(rec.id, primary.name),
            "originalSize": rec.original_size,
            "processedSize": primary.stat().st_size,
        }
        if len(result.outputs) > 1:
            body["downloads"] = [
                {"filename": p.name, "downloadUrl": download_url(rec.id, p.name), "size": p.stat().st_size}
                for p in result.outputs[1:]
            ]
        for key, value in result.extra.items():
            body.setdefault(key, value)
        if rec.warnings:
            body["warnings"] = list(rec.warnings)
        return body

    async def wait(self, rec: JobRecord, timeout_s: float) -> bool:
        """Wait for the job to end and its state to be committed, so a 200 survives a crash. (An event
        already set is not awaited: awaiting it would still yield to every other runnable task first, which
        puts other requests' work on this response's path.)"""
        with trio.move_on_after(timeout_s):
            await rec.done.wait()
            if not rec.persisted.is_set():  # usually committed already (StoreActor.post)
                await rec.persisted.wait()
        return rec.done.is_set()

    # ---- batches --------------------------------------------------------------------------
    async def run_batch(self, parent: JobRecord, spec: ToolSpec, items: list[tuple[int, Path, str]],
                        settings: Any, zip_path: Path, rejected: list[dict[str, str]] | None = None,
                        shared: list[tuple[Path, str, str]] | None = None) -> None:
        """One child job per file; the ZIP grows on disk as results arrive; failures are recorded.
        `rejected` are files refused before the batch started (wrong kind, empty); `shared` are named
        second inputs (path, name, role), given to every file's job after the file itself."""
        rejected = rejected or []
        shared = shared or []
        total = len(items) + len(rejected)
        # each file's state, in upload order: the refused ones are the indices the items lack
        entries = {index: {"index": index, "filename": name} for index, _, name in items}
        refused = sorted(set(range(total)) - set(entries))
        for index, error in zip(refused, rejected, strict=True):
            entries[index] = {"index": index, "filename": error["filename"], "status": JobState.FAILED.value,
                              "progress": 0, "error": error["error"]}
        parent.batch = {"totalFiles": total, "completedFiles": 0, "failedFiles": len(rejected),
                        "errors": list(rejected), "_children": [], "_files": [entries[i] for i in range(total)]}
        parent.update(status=JobState.PROCESSING, progress=0)
        results: dict[str, str] = {}
        children: list[tuple[int, JobRecord, str]] = []
        for index, path, name in items:
            child = self.create(parent.owner_id, "tool", spec.id, persist=False, job_id=f"{parent.id}.{index}")
            child.original_size = path.stat().st_size
            # each child's output folder has its own parent: tools keep per-job caches beside their output
            workdir = self.job_dir(parent.id) / "items" / str(index) / "out"
            workdir.mkdir(parents=True, exist_ok=True)
            call = ToolCall(inputs=[path, *(p for p, _, _ in shared)], names=[name, *(n for _, n, _ in shared)],
                            settings=settings, workdir=workdir, limits=self.limits,
                            roles=["file", *(r for _, _, r in shared)])
            parent.batch["_children"].append(child.id)
            child.parent = parent
            entries[index]["_record"] = child
            try:
                self.submit_tool(child, spec, call)
            except ApiError:
                pass  # recorded as that child's failure below
            children.append((index, child, name))

        with Archive(zip_path) as archive:
            for index, child, name in children:
                await child.done.wait()
                if child.status is JobState.COMPLETED and child.result is not None:
                    produced = self.job_dir(parent.id) / "items" / str(index) / "out"
                    out_name = Path(child.result["downloadUrl"]).name
                    source = produced / unquote(out_name)
                    arcname = archive.add(source, unquote(out_name))
                    results[str(index)] = arcname
                    parent.batch["completedFiles"] += 1
                    entries[index].update(status=JobState.COMPLETED.value, progress=100, output=arcname,
                                          downloadUrl=self.publish_item(parent.id, source, arcname))
                else:
                    parent.batch["failedFiles"] += 1
                    parent.batch["errors"].append({"filename": name, "error": child.error or "failed"})
                    entries[index].update(status=child.status.value if child.status.terminal else "failed",
                                          progress=round(child.progress, 1), error=child.error or "failed")
                entries[index].pop("_record", None)
                child.parent = None
                self.records.pop(child.id, None)
                done = parent.batch["completedFiles"] + parent.batch["failedFiles"]
                parent.update(progress=100 * done / total, message=f"{done}/{total} files")
        self.finish_batch(parent, zip_path, results)

    def publish_item(self, job_id: str, source: Path, arcname: str) -> str:
        """One file of a batch made downloadable on its own, beside the ZIP (`out/files/<name as zipped>`): a
        hard link to the file the ZIP was written from, so it costs no copy (a copy where links fail)."""
        target = self.out_dir(job_id) / "files" / arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.hardlink_to(source)
        except OSError:
            shutil.copyfile(source, target)
        return download_url(job_id, f"files/{arcname}")

    def finish_batch(self, parent: JobRecord, zip_path: Path, results: dict[str, str], **extra: Any) -> None:
        """End a batch-like job: failed when no file made it, else completed with its ZIP."""
        if parent.status.terminal:  # canceled meanwhile
            return
        assert parent.batch is not None
        if parent.batch["completedFiles"] == 0:
            self.finish(parent, JobState.FAILED, error="Every file in the batch failed.",
                        code=ErrorCode.PROCESSING_FAILED.value, http_status=422)
            return
        body = {
            "jobId": parent.id,
            "downloadUrl": download_url(parent.id, zip_path.name),
            "originalSize": parent.original_size,
            "processedSize": zip_path.stat().st_size,
            "fileResults": results,
            "errors": parent.batch["errors"],
            **extra,
        }
        if parent.warnings:
            body["warnings"] = list(parent.warnings)
        self.finish(parent, JobState.COMPLETED, result=body)

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


# A job's two writes on the hot path, built once (see actors.store.actor.Write for how they run).
_INSERT_JOB = Write(insert(schema.jobs).values({name: bindparam(name) for name in (
    "id", "owner_id", "kind", "tool_id", "status", "progress", "created_at", "updated_at")}))
_FINISH_JOB = Write(
    update(schema.jobs)
    .where(schema.jobs.c.id == bindparam("b_id"))
    .values({name: bindparam(f"b_{name}") for name in (
        "status", "progress", "message", "result", "error", "code", "http_status", "updated_at")})
)
