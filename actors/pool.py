"""An actor whose tools run in worker processes (trio-parallel, killed on cancel)."""

from __future__ import annotations

import inspect
import logging

import trio
import trio_parallel

from actors import sandbox, workers
from actors.runtime import Actor
from protocols.jobs import Job
from protocols.tools import REGISTRY, ToolResult

log = logging.getLogger("lutra.actors")

# Worker processes are shared by every family (trio-parallel's cache): families warm theirs one after the
# other, so each reuses the processes the previous one started instead of starting as many again (on a
# 2-core box: 2 warm processes, not 2 per family).
_warming = trio.Lock()


class WorkerPoolActor(Actor):
    """CPU tools run in a worker process each: the loop never blocks, a native crash fails one job,
    and a cancelled or timed-out job's process is killed."""

    warm_modules: tuple[str, ...] = ()  # imported in each worker at start (the family's heavy libraries)
    # Workers of their own, confined at start (sandbox.confine_worker: Landlock + memory limit), instead of
    # the processes shared by every family: for families that decode untrusted images in-process.
    confined = False

    def __init__(self, capacity: int, queue_size: int = 256) -> None:
        super().__init__(capacity, queue_size)
        self.worker_limiter = trio.CapacityLimiter(self.capacity)
        self._context: trio_parallel.WorkerContext | None = None

    async def setup(self, nursery: trio.Nursery) -> None:
        if self.confined and sandbox.policy().enabled:
            self._context = await nursery.start(self._hold_confined_workers)
        nursery.start_soon(self._warm_workers)

    async def _hold_confined_workers(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The confined workers live as long as the actor."""
        async with trio_parallel.open_worker_context(init=sandbox.confine_worker, grace_period=5) as context:
            task_status.started(context)
            await trio.sleep_forever()

    def _run_sync(self, fn, *args):
        if self._context is not None:
            return self._context.run_sync(fn, *args, kill_on_cancel=True, limiter=self.worker_limiter)
        return trio_parallel.run_sync(fn, *args, kill_on_cancel=True, limiter=self.worker_limiter)

    async def _warm_workers(self) -> None:
        try:
            async with _warming, trio.open_nursery() as nursery:
                for _ in range(self.capacity):
                    nursery.start_soon(self._warm_one)
        except Exception:
            log.exception("actor %s: warming workers failed", self.name)

    async def _warm_one(self) -> None:
        await self._run_sync(workers.warm, self.warm_modules)

    async def execute(self, job: Job) -> ToolResult:
        spec = REGISTRY[job.tool_id]
        if spec.in_process:
            with sandbox.job_scope(job.call.workdir, job.call.inputs):
                result = spec.run(job.call)
                if inspect.isawaitable(result):
                    result = await result
            return workers.finish(result, job.call)
        job.call.progress = None  # callbacks don't cross process boundaries
        return await self._run_sync(workers.run_tool_fn, spec.run, job.call)

