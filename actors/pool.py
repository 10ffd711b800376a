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

    def __init__(self, capacity: int, queue_size: int = 256) -> None:
        super().__init__(capacity, queue_size)
        self.worker_limiter = trio.CapacityLimiter(self.capacity)

    async def setup(self, nursery: trio.Nursery) -> None:
        nursery.start_soon(self._warm_workers)

    async def _warm_workers(self) -> None:
        try:
            async with _warming, trio.open_nursery() as nursery:
                for _ in range(self.capacity):
                    nursery.start_soon(self._warm_one)
        except Exception:
            log.exception("actor %s: warming workers failed", self.name)

    async def _warm_one(self) -> None:
        await trio_parallel.run_sync(workers.warm, self.warm_modules, kill_on_cancel=True,
                                     limiter=self.worker_limiter)

    async def execute(self, job: Job) -> ToolResult:
        spec = REGISTRY[job.tool_id]
        if spec.in_process:
            with sandbox.job_scope(job.call.workdir, job.call.inputs):
                result = spec.run(job.call)
                if inspect.isawaitable(result):
                    result = await result
            return workers.finish(result, job.call)
        job.call.progress = None  # callbacks don't cross process boundaries
        return await trio_parallel.run_sync(
            workers.run_tool_fn, spec.run, job.call, kill_on_cancel=True, limiter=self.worker_limiter
        )

