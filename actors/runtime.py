"""The actor base: a bounded mailbox, a run loop, a capacity limit, deadlines, cancellation and stats.

An actor receives `Job`s and answers through `job.reply` with `Progress`, then exactly one `Done` or
`Failed`, whatever happens to the actor:
- the run loop is the one place that starts a job: it takes the next job from the mailbox, waits for a
  free slot of the `CapacityLimiter`, and starts the job in its own task;
- a job canceled before it starts is answered at once and skipped when its turn comes;
- when the run loop dies (a bug outside any job, a crashed background task) the jobs it was running end
  `Failed`; the job it had taken from the mailbox and the jobs still in the mailbox wait for the
  supervisor's restart and run then;
- `stop` (the supervisor's last word, at shutdown) answers every job that has not started.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from dataclasses import dataclass

import trio
import trio_parallel

from actors import models, workers
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import Done, Failed, Job, JobEvent, Progress
from protocols.tools import ToolResult, spec_for

log = logging.getLogger("lutra.actors")


@dataclass(slots=True)
class ActorStats:
    queued: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    restarts: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "queued": self.queued,
            "running": self.running,
            "completed": self.completed,
            "failed": self.failed,
            "restarts": self.restarts,
        }


class _JobSlot:
    """What the actor knows about one accepted job until it ends."""

    __slots__ = ("job", "scope", "cancel_requested", "started", "finished")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.scope = trio.CancelScope()
        self.cancel_requested = False
        self.started = False
        self.finished = False


class Actor:
    """Base of every family actor. Subclasses may add `setup` (long-lived resources) and wrap `execute`."""

    name = "actor"

    def __init__(self, capacity: int, queue_size: int = 256) -> None:
        self.capacity = max(1, capacity)
        self.limiter = trio.CapacityLimiter(self.capacity)  # job slots
        self.worker_limiter = trio.CapacityLimiter(self.capacity)  # the worker processes or threads of its tools
        self.worker_context: trio_parallel.WorkerContext | None = None  # its own worker processes, if any
        self._send, self._recv = trio.open_memory_channel[Job](queue_size)
        self.queue_size = queue_size
        self.stats = ActorStats()
        self._slots: dict[str, _JobSlot] = {}
        # taken from the mailbox, waiting for a free slot; kept across a restart of the run loop
        self._waiting: Job | None = None
        self._stopped = False

    # ---- the mailbox side, called from other tasks -------------------------------------------
    def submit(self, job: Job) -> None:
        """Queue a job; raises BUSY when the mailbox is full (backpressure, never unbounded) or the
        actor has stopped, and FEATURE_NOT_INSTALLED when a model bundle its tool requires (`@tool(requires=)`)
        is missing. A job accepted here ends in exactly one `Done` or `Failed`."""
        missing = models.missing_for(job.tool_id, job.call.settings)
        if missing:
            err = models.not_installed(missing[0])
            raise ApiError(err.code, err.message, status=err.status)
        if self._stopped:
            raise ApiError(ErrorCode.BUSY, f"The {self.name} workers are shutting down; try again shortly.",
                           headers={"Retry-After": "5"})
        try:
            self._send.send_nowait(job)
        except trio.WouldBlock:
            raise ApiError(
                ErrorCode.BUSY,
                f"The {self.name} workers are busy; try again shortly.",
                headers={"Retry-After": "5"},
            ) from None
        self._slots[job.id] = _JobSlot(job)
        self.stats.queued += 1

    def cancel(self, job_id: str) -> bool:
        """Cancel a job: a running one is stopped (its processes killed) and ends `Failed` CANCELED; one
        that has not started is answered at once and never starts."""
        slot = self._slots.get(job_id)
        if slot is None or slot.finished:
            return False
        slot.cancel_requested = True
        if slot.started:
            slot.scope.cancel()
        else:
            self._answer_unstarted(slot, Failed(job_id, ErrorCode.CANCELED, "The job was canceled.", 409))
        return True

    def stop(self, message: str = "The server is shutting down.") -> None:
        """Answer every job that has not started (the one waiting for a slot and the mailbox's) and refuse
        new ones. Called by the supervisor when it stops running this actor."""
        self._stopped = True
        if self._waiting is not None:
            waiting, self._waiting = self._waiting, None
            self._fail_unstarted(waiting, message)
        while True:
            try:
                job = self._recv.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            self._fail_unstarted(job, message)

    def health(self) -> dict:
        """Family-specific details for admin health (devices, providers, loaded models, encoders)."""
        return {}

    # ---- the actor side ------------------------------------------------------------------------
    async def setup(self, nursery: trio.Nursery) -> None:
        """Acquire long-lived resources (warm workers, listeners). Runs at every (re)start."""

    async def execute(self, job: Job) -> ToolResult:
        """Run the job's tool where its `@tool` says; tools in the server process report progress."""

        def progress(percent: float, message: str | None = None) -> None:
            job.reply(Progress(job.id, max(0.0, min(100.0, float(percent))), message))

        return await workers.run_tool(spec_for(job.tool_id), job.call, limiter=self.worker_limiter,
                                      progress=progress, context=self.worker_context)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The run loop. Jobs it started are cancelled (and answered) when it ends; the job it waits a
        slot for stays in `_waiting` for the next run or for `stop`."""
        async with trio.open_nursery() as nursery:
            try:
                await self.setup(nursery)
            except Exception:
                log.exception("actor %s: setup failed", self.name)
                raise
            task_status.started()
            try:
                if self._waiting is not None:  # taken before a restart
                    await self._start(self._waiting, nursery)
                async for job in self._recv:
                    self._waiting = job
                    await self._start(job, nursery)
            finally:
                nursery.cancel_scope.cancel()

    async def _start(self, job: Job, nursery: trio.Nursery) -> None:
        """Wait for a free slot, then start the job in its own task: the one place a job starts."""
        slot = self._slots.get(job.id)
        if slot is None or slot.finished:  # canceled while queued: already answered
            self._waiting = None
            return
        await self.limiter.acquire_on_behalf_of(job.id)
        self._waiting = None
        if slot.finished:  # canceled while it waited for the slot
            self.limiter.release_on_behalf_of(job.id)
            return
        slot.started = True
        self.stats.queued = max(0, self.stats.queued - 1)
        self.stats.running += 1
        nursery.start_soon(self._run_job, slot)

    async def _run_job(self, slot: _JobSlot) -> None:
        job = slot.job
        started = time.monotonic()
        outcome: Done | Failed | None = None
        try:
            job.reply(Progress(job.id, 0, "processing"))
            slot.scope.deadline = trio.current_time() + job.deadline_s if job.deadline_s > 0 else math.inf
            with slot.scope:
                result = await self.execute(job)
                outcome = Done(job.id, result)
            if outcome is None:
                if slot.cancel_requested:
                    outcome = Failed(job.id, ErrorCode.CANCELED, "The job was canceled.", 409)
                else:
                    outcome = Failed(
                        job.id, ErrorCode.TIMEOUT, f"The job ran past its {job.deadline_s:g} s deadline.", 504
                    )
        except ApiError as err:
            outcome = Failed(job.id, err.code, err.message, err.status)
        except Exception as err:  # a bug or a crashed worker: fail this job only
            outcome = Failed(job.id, ErrorCode.PROCESSING_FAILED, _describe_crash(err), 422)
            log.error("job %s (%s) crashed: %s", job.id, job.tool_id, "".join(traceback.format_exception(err)))
        finally:
            if outcome is None:  # cancelled from outside: shutdown or actor restart
                outcome = Failed(job.id, ErrorCode.INTERNAL_ERROR, "The job was interrupted by a restart.", 500)
            self.stats.running -= 1
            self.limiter.release_on_behalf_of(job.id)
            self._end(slot, outcome)
            log.info(
                '{"event":"job","jobId":"%s","tool":"%s","actor":"%s","outcome":"%s","ms":%d}',
                job.id,
                job.tool_id,
                self.name,
                "done" if isinstance(outcome, Done) else outcome.code.value,
                (time.monotonic() - started) * 1000,
            )

    def _fail_unstarted(self, job: Job, message: str) -> None:
        slot = self._slots.get(job.id)
        if slot is not None and not slot.finished:
            self._answer_unstarted(slot, Failed(job.id, ErrorCode.INTERNAL_ERROR, message, 500))

    def _answer_unstarted(self, slot: _JobSlot, outcome: Failed) -> None:
        self.stats.queued = max(0, self.stats.queued - 1)
        self._end(slot, outcome)

    def _end(self, slot: _JobSlot, outcome: Done | Failed) -> None:
        """A job's one terminal answer."""
        slot.finished = True
        self._slots.pop(slot.job.id, None)
        if isinstance(outcome, Done):
            self.stats.completed += 1
        else:
            self.stats.failed += 1
        _reply(slot.job, outcome)


def _reply(job: Job, event: JobEvent) -> None:
    try:
        job.reply(event)
    except Exception:
        log.exception("job %s: reply failed", job.id)


def _describe_crash(err: BaseException) -> str:
    name = type(err).__name__
    if "BrokenWorker" in name:
        return "The worker processing this file crashed; the file may be corrupt or too complex."
    return "The file could not be processed."
