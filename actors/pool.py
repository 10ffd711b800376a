"""An actor that keeps warm worker processes for its tools (trio-parallel, killed on cancel)."""

from __future__ import annotations

import logging

import trio
import trio_parallel

from actors import sandbox, workers
from actors.runtime import Actor

log = logging.getLogger("lutra.actors")

# Families warm their workers one after the other: start-up does not start every family's at once.
_warming = trio.Lock()


class WorkerPoolActor(Actor):
    """CPU tools run in a worker process each: the loop never blocks, a native crash fails one job,
    and a cancelled or timed-out job's process is killed. The workers are the family's own, started
    confined (sandbox.WorkerInit: Landlock + memory limit): they decode untrusted files in-process."""

    warm_modules: tuple[str, ...] = ()  # imported in each worker at start (the family's heavy libraries)
    warm_at_start = True  # False: workers start with the first job that needs one

    def worker_init(self) -> sandbox.WorkerInit:
        """How each of the family's worker processes starts."""
        return sandbox.WorkerInit(sandbox.policy())

    async def setup(self, nursery: trio.Nursery) -> None:
        self.worker_context = await nursery.start(self._hold_workers)
        if self.warm_at_start:
            nursery.start_soon(self._warm_workers)

    async def _hold_workers(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The workers live as long as the actor."""
        async with trio_parallel.open_worker_context(init=self.worker_init(), grace_period=5) as context:
            task_status.started(context)
            await trio.sleep_forever()

    async def _warm_workers(self) -> None:
        try:
            async with _warming, trio.open_nursery() as nursery:
                for _ in range(self.capacity):
                    nursery.start_soon(self._warm_one)
        except Exception:
            log.exception("actor %s: warming workers failed", self.name)

    async def _warm_one(self) -> None:
        await self.worker_context.run_sync(workers.warm, self.warm_modules, kill_on_cancel=True,
                                           limiter=self.worker_limiter)
