"""An actor that keeps warm worker processes for its tools (trio-parallel, killed on cancel)."""

from __future__ import annotations

import logging

import trio
import trio_parallel

from actors import workers
from actors.runtime import Actor

log = logging.getLogger("lutra.actors")

# Worker processes are shared by every family (trio-parallel's cache): families warm theirs one after the
# other, so each reuses the processes the previous one started instead of starting as many again.
_warming = trio.Lock()


class WorkerPoolActor(Actor):
    """CPU tools run in a worker process each: the loop never blocks, a native crash fails one job,
    and a cancelled or timed-out job's process is killed. Its workers start with the actor."""

    warm_modules: tuple[str, ...] = ()  # imported in each worker at start (the family's heavy libraries)

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
