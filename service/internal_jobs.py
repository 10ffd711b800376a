"""Jobs the server gives its own actors (the library's thumbnails, previews and probes; declared with
`@tool(internal=True)`): the same mailbox, slots, deadline and stats as a tool job, but no job record, no
progress stream and no download. The caller awaits the outcome; the job's folder is removed after."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import trio

from protocols.errors import ApiError
from protocols.jobs import Done, Failed, Job, JobEvent, Progress
from protocols.tools import INTERNAL, ToolCall, ToolResult, ToolSettings, ToolSpec
from service.jobs import JobManager, new_job_id


class InternalJobs:
    def __init__(self, jobs: JobManager) -> None:
        self.jobs = jobs

    @asynccontextmanager
    async def run(self, job_id: str, source: Path, settings: ToolSettings, *, name: str | None = None,
                  copy: bool = False) -> AsyncIterator[ToolResult]:
        """Run internal job `job_id` on `source` and yield its result while its output files exist.
        `copy`: the input is copied into the job's folder first, for workers that may read nothing outside
        the workspace (the image actor's confined workers; the library is outside it). A failed job
        raises its ApiError; a cancelled caller cancels the job."""
        spec = INTERNAL[job_id]
        folder = self.jobs.job_dir(new_job_id())
        try:
            workdir = folder / "out"
            await trio.to_thread.run_sync(workdir.mkdir, 0o700, True)
            if copy:
                target = folder / "in" / (name or source.name)
                await trio.to_thread.run_sync(_copy, source, target)
                source = target
            call = ToolCall(inputs=[source], names=[name or source.name], settings=settings, workdir=workdir,
                            limits=self.jobs.limits)
            yield await self._submit(folder.name, spec, call)
        finally:
            await trio.to_thread.run_sync(shutil.rmtree, folder, True)

    async def _submit(self, job_id: str, spec: ToolSpec, call: ToolCall) -> ToolResult:
        ended = trio.Event()
        outcome: list[Done | Failed] = []

        def reply(event: JobEvent) -> None:
            if not isinstance(event, Progress):
                outcome.append(event)
                ended.set()

        job = Job(job_id, spec.id, call, self.jobs.deadline_for(spec), reply)
        supervisor = self.jobs.supervisor
        supervisor.submit(job)  # BUSY when the actor's mailbox is full, like any tool
        try:
            await ended.wait()
        finally:
            if not ended.is_set():  # the request went away: the job goes too
                supervisor.cancel(job.id)
        event = outcome[0]
        if isinstance(event, Failed):
            raise ApiError(event.code, event.message, status=event.status)
        return event.result


def _copy(source: Path, target: Path) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def place(source: Path, dest: Path) -> None:
    """Put a job's output where it is kept: a temp name of its own, then a rename, so that two renders of
    the same file at once (a page asks for one thumbnail from the card and the version list) never leave
    a half-written file nor lose the race on the rename."""
    tmp = dest.with_name(f"{dest.name}.{new_job_id()}.tmp")
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
