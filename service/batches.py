"""Batch coordinators: the part of a batch-like job (`/tools/.../batch`, `/pipeline/batch`) that runs one
item per file, collects each item's outcome, writes the ZIP and finishes the parent job.

Every coordinator keeps its state in a ledger. On one box (SQLite) the ledger is this process's memory and
nothing outlives it, as before. With several nodes (service.cluster.coordinators) the ledger is PostgreSQL:
the plan (what to run) is written when the batch starts, each item's outcome when it ends, and the
coordinator holds a lease; when its node dies another node takes the lease, reads the plan and the finished
items back and resumes with `resumed=True`: finished items are not run again (their files are kept as
they are), unfinished ones are followed or queued, and the batch completes exactly once.

The ZIP is written in item order, each item as soon as every item before it is in, to a temporary file
that replaces the final name when complete: a resumed coordinator writes the same archive from the start.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import unquote

from actors.archive import Archive
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import JobState
from protocols.tools import REGISTRY, ToolCall
from service.progress import JobRecord

if TYPE_CHECKING:
    from service.jobs import JobManager

log = logging.getLogger("lutra.batches")


@dataclass(slots=True)
class Plan:
    """What a coordinator needs to (re)start: stored as JSON by a durable ledger (paths made relative to
    the shared storage root there)."""

    kind: str  # batch | pipeline-batch | pipeline
    out: Path  # where the result goes: a batch's ZIP, a pipeline's out/ folder
    items: list[tuple[int, Path, str]]  # (index among the uploaded files, path, name)
    rejected: list[dict[str, str]] = field(default_factory=list)  # files refused before anything ran
    tool_id: str = ""  # batch: the tool
    settings: dict[str, Any] = field(default_factory=dict)  # batch: its raw settings
    shared: list[tuple[Path, str, str]] = field(default_factory=list)  # batch: (path, name, role) given to all
    steps: list[dict[str, Any]] = field(default_factory=list)  # pipelines: [{toolId, settings}]
    concurrency: int = 1  # pipeline-batch: files at once

    @property
    def total(self) -> int:
        return len(self.items) + len(self.rejected)


class Ledger(Protocol):
    """Where coordinators keep their state (see the module's doc)."""

    async def begin(self, parent: JobRecord, plan: Plan) -> None: ...
    async def finished(self, parent_id: str) -> dict[int, dict[str, Any]]: ...
    async def record(self, parent: JobRecord, index: int, outcome: dict[str, Any]) -> None: ...
    def progress(self, parent: JobRecord) -> None: ...
    async def complete(self, parent: JobRecord, status: JobState, **fields: Any) -> None: ...
    async def batch_state(self, parent_id: str) -> dict[str, Any] | None: ...


class LocalLedger:
    """One box: the coordinator's memory is its state; a restart fails unfinished jobs (JobManager.recover)."""

    def __init__(self, jobs: JobManager) -> None:
        self.jobs = jobs

    async def begin(self, parent: JobRecord, plan: Plan) -> None:
        return None

    async def finished(self, parent_id: str) -> dict[int, dict[str, Any]]:
        return {}

    async def record(self, parent: JobRecord, index: int, outcome: dict[str, Any]) -> None:
        return None

    def progress(self, parent: JobRecord) -> None:
        return None

    async def complete(self, parent: JobRecord, status: JobState, **fields: Any) -> None:
        self.jobs.finish(parent, status, **fields)

    async def batch_state(self, parent_id: str) -> dict[str, Any] | None:
        return None  # a batch's counts live in its record, which this process holds while it runs


class Collector:
    """Item outcomes as they arrive, the parent's batch fields, and the ZIP written in item order."""

    def __init__(self, jobs: JobManager, parent: JobRecord, plan: Plan, done: dict[int, dict[str, Any]]) -> None:
        self.jobs, self.parent, self.plan = jobs, parent, plan
        self.outcomes = dict(done)
        self.order = [index for index, _, _ in plan.items]
        self.names = {index: name for index, _, name in plan.items}
        self.results: dict[str, str] = {}
        self._next = 0  # position in `order` of the next item to go into the ZIP
        self._part = plan.out.with_name(f".{plan.out.name}.{uuid.uuid4().hex}.part")
        self._archive = Archive(self._part)
        self.fractions: dict[int, float] = {}  # items under way: how far (0..1), for the progress
        # each file's state, in upload order (the progress frame's `files`): the refused ones are the
        # indices the items lack; an item's running job speaks for it until its outcome is in
        self.entries = {index: {"index": index, "filename": name} for index, _, name in plan.items}
        refused = sorted(set(range(plan.total)) - set(self.entries))
        for index, error in zip(refused, plan.rejected, strict=True):
            self.entries[index] = {"index": index, "filename": error["filename"], "status": JobState.FAILED.value,
                                   "progress": 0, "error": error["error"]}
        parent.batch = {"totalFiles": plan.total, "completedFiles": 0, "failedFiles": 0, "errors": [],
                        "_children": list((parent.batch or {}).get("_children", [])),
                        "_files": [self.entries[i] for i in sorted(self.entries)]}
        self._count()
        self._flush()

    def follow(self, index: int, child: JobRecord) -> None:
        """An item's job runs: its progress is the file's state, and its changes reach the batch's frames."""
        child.parent = self.parent
        self.entries[index]["_record"] = child

    async def add(self, index: int, outcome: dict[str, Any]) -> None:
        """An item's end: recorded in the ledger (a resumed coordinator then never runs it again), with the
        batch's counts that include it, before it goes into the ZIP."""
        self.outcomes[index] = outcome
        self.fractions.pop(index, None)
        record = self.entries[index].pop("_record", None)
        if record is not None:
            record.parent = None
        if "error" in outcome:
            self.entries[index].update(status=outcome.get("status", JobState.FAILED.value), error=outcome["error"],
                                       progress=round(record.progress, 1) if record is not None else 0)
        self._count()
        self.refresh()
        await self.jobs.ledger.record(self.parent, index, outcome)
        self._flush()

    def refresh(self) -> None:
        batch = self.parent.batch
        assert batch is not None
        done = batch["completedFiles"] + batch["failedFiles"]
        running = sum(self.fractions.values())
        self.parent.update(status=JobState.PROCESSING, progress=100 * (done + running) / max(1, self.plan.total),
                           message=f"{done}/{self.plan.total} files")
        self.jobs.ledger.progress(self.parent)

    def _count(self) -> None:
        batch = self.parent.batch
        assert batch is not None
        ordered = [self.outcomes[i] for i in self.order if i in self.outcomes]
        batch["completedFiles"] = sum(1 for o in ordered if "files" in o)
        batch["failedFiles"] = len(self.plan.rejected) + len(ordered) - batch["completedFiles"]
        batch["errors"] = list(self.plan.rejected) + [
            {"filename": self.names[i], "error": self.outcomes[i]["error"]}
            for i in self.order if "error" in self.outcomes.get(i, {})]

    def _flush(self) -> None:
        job_dir = self.jobs.job_dir(self.parent.id)
        while self._next < len(self.order) and (index := self.order[self._next]) in self.outcomes:
            files = self.outcomes[index].get("files")
            if files:
                sources = [_inside(job_dir, rel) for rel, _ in files]
                names = [self._archive.add(source, name) for source, (_, name) in zip(sources, files, strict=True)]
                self.results[str(index)] = names[0] if len(names) == 1 else ",".join(names)
                self.entries[index].update(status=JobState.COMPLETED.value, progress=100, output=names[0],
                                           downloadUrl=self._publish(sources[0], names[0]))
            self._next += 1

    def _publish(self, source: Path, arcname: str) -> str:
        """One file of the batch made downloadable on its own, beside the ZIP (`out/files/<name as zipped>`):
        a hard link to the file the ZIP was written from, so it costs no copy (a copy where links fail)."""
        from service.jobs import download_url

        target = self.jobs.out_dir(self.parent.id) / "files" / arcname
        if not target.exists():  # a resumed coordinator publishes what its predecessor did again
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                target.hardlink_to(source)
            except OSError:
                shutil.copyfile(source, target)
        return download_url(self.parent.id, f"files/{arcname}")

    async def finish(self, **extra: Any) -> None:
        """Publish the ZIP and end the parent: failed when no file made it, else completed with the ZIP."""
        self._archive.close()
        parent, batch = self.parent, self.parent.batch
        assert batch is not None
        if parent.status.terminal:  # canceled meanwhile
            self._part.unlink(missing_ok=True)
            return
        if batch["completedFiles"] == 0:
            self._part.unlink(missing_ok=True)
            await self.jobs.ledger.complete(parent, JobState.FAILED, error="Every file in the batch failed.",
                                            code=ErrorCode.PROCESSING_FAILED.value, http_status=422)
            return
        zip_path = self.plan.out
        os.replace(self._part, zip_path)  # the same bytes whichever coordinator wrote it
        from service.jobs import download_url

        body = {"jobId": parent.id, "downloadUrl": download_url(parent.id, zip_path.name),
                "originalSize": parent.original_size, "processedSize": zip_path.stat().st_size,
                "fileResults": self.results, "errors": batch["errors"], **extra}
        if parent.warnings:
            body["warnings"] = list(parent.warnings)
        await self.jobs.ledger.complete(parent, JobState.COMPLETED, result=body)

    def abandon(self) -> None:
        self._archive.close()
        self._part.unlink(missing_ok=True)


def _inside(job_dir: Path, relative: str) -> Path:
    path = (job_dir / relative).resolve()
    if not path.is_relative_to(job_dir.resolve()):  # a ledger row names it: never trusted with a path
        raise ApiError(ErrorCode.INTERNAL_ERROR, "An item's output lies outside its job.")
    return path


async def guarded(jobs: JobManager, parent: JobRecord, run: Callable[[], Awaitable[None]]) -> None:
    """Run a coordinator; an unexpected error fails the parent job instead of leaving it open."""
    try:
        await run()
    except Exception:
        log.exception("batch %s failed", parent.id)
        if not parent.status.terminal:
            await jobs.ledger.complete(parent, JobState.FAILED, error="The batch failed unexpectedly.",
                                       code=ErrorCode.PROCESSING_FAILED.value, http_status=422)


async def run_tool_batch(jobs: JobManager, parent: JobRecord, plan: Plan, *, resumed: bool = False) -> None:
    """One child job per file (`<parent>.<index>`, in the queue with several nodes); shared inputs (e.g. a
    watermark) are given to every file's job after the file itself."""
    from service.toolrun import validate_settings

    spec = REGISTRY[plan.tool_id]
    settings = validate_settings(spec, plan.settings)
    done = await jobs.ledger.finished(parent.id) if resumed else {}
    collector = Collector(jobs, parent, plan, done)
    parent.update(status=JobState.PROCESSING)
    collector.refresh()
    children: list[tuple[int, JobRecord]] = []
    try:
        for index, path, name in plan.items:
            if index in done:
                continue
            child = jobs.create(parent.owner_id, "tool", spec.id, persist=False, job_id=f"{parent.id}.{index}")
            child.original_size = path.stat().st_size
            # each child's output folder has its own parent: tools keep per-job caches beside their output
            workdir = jobs.job_dir(parent.id) / "items" / str(index) / "out"
            workdir.mkdir(parents=True, exist_ok=True)
            call = ToolCall(inputs=[path, *(p for p, _, _ in plan.shared)],
                            names=[name, *(n for _, n, _ in plan.shared)], settings=settings, workdir=workdir,
                            limits=jobs.limits, roles=["file", *(r for _, _, r in plan.shared)])
            parent.batch["_children"].append(child.id)
            collector.follow(index, child)
            try:
                await jobs.submit_tool_once(child, spec, call) if resumed else jobs.submit_tool(child, spec, call)
            except ApiError:
                pass  # recorded as that child's failure below
            children.append((index, child))
        for index, child in children:
            await child.done.wait()
            if child.status is JobState.COMPLETED and child.result is not None:
                out_name = unquote(Path(child.result["downloadUrl"]).name)
                outcome: dict[str, Any] = {"files": [[f"items/{index}/out/{out_name}", out_name]]}
            else:
                outcome = {"error": child.error or "failed",
                           "status": child.status.value if child.status.terminal else JobState.FAILED.value}
            jobs.records.pop(child.id, None)
            await collector.add(index, outcome)
        await collector.finish()
    except BaseException:
        collector.abandon()
        raise
