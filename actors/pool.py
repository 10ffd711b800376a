"""An actor that keeps warm worker processes for its tools (trio-parallel, killed on cancel)."""

from __future__ import annotations

import logging

import trio
import trio_parallel

from actors import sandbox, workers
from actors.runtime import Actor

log = logging.getLogger("lutra.actors")

# Worker processes are shared by every family (trio-parallel's cache): families warm theirs one after the
# other, so each reuses the processes the previous one started instead of starting as many again.
_warming = trio.Lock()


class WorkerPoolActor(Actor):
    """CPU tools run in a worker process each: the loop never blocks, a native crash fails one job,
    and a cancelled or timed-out job's process is killed. Its workers start with the actor."""

    warm_modules: tuple[str, ...] = ()  # imported in each worker at start (the family's heavy libraries)
    # Workers of their own, confined at start (sandbox.confine_worker: Landlock + memory limit), instead of
    # the processes shared by every family: for families that decode untrusted images in-process.
    confined = False
    # Workers of its own (unconfined) instead of the shared ones: for a family whose libraries change a
    # process for good (WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported).
    own_workers = False

    async def setup(self, nursery: trio.Nursery) -> None:
        if self.confined and sandbox.policy().enabled:
            self.worker_context = await nursery.start(self._hold_workers, sandbox.confine_worker)
        elif self.own_workers:
            self.worker_context = await nursery.start(self._hold_workers, _nothing)
        nursery.start_soon(self._warm_workers)

    async def _hold_workers(self, init, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """The actor's own workers live as long as the actor."""
        async with trio_parallel.open_worker_context(init=init, grace_period=5) as context:
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
        run_sync = self.worker_context.run_sync if self.worker_context is not None else trio_parallel.run_sync
        await run_sync(workers.warm, self.warm_modules, kill_on_cancel=True, limiter=self.worker_limiter)


def _nothing() -> bool:
    return True
