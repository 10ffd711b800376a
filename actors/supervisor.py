"""Starts every actor in one nursery, restarts a crashed one with backoff, and is the address book."""

from __future__ import annotations

import logging
from collections.abc import Iterable

import trio

from actors.runtime import Actor
from protocols.errors import ApiError, ErrorCode
from protocols.jobs import Job
from protocols.tools import Family, spec_for

log = logging.getLogger("lutra.supervisor")


class Supervisor:
    def __init__(self, actors: Iterable[tuple[Family, Actor]], max_backoff_s: float = 30.0) -> None:
        self.actors: dict[Family, Actor] = dict(actors)
        self.max_backoff_s = max_backoff_s

    def actor_for(self, tool_id: str) -> Actor:
        spec = spec_for(tool_id)
        if spec is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"Unknown tool: {tool_id}")
        actor = self.actors.get(spec.family)
        if actor is None:
            raise ApiError(ErrorCode.BUSY, f"The {spec.family.value} tools are not available on this server.")
        return actor

    def submit(self, job: Job) -> None:
        self.actor_for(job.tool_id).submit(job)

    def cancel(self, job_id: str) -> bool:
        return any(actor.cancel(job_id) for actor in self.actors.values())

    def stats(self) -> dict[str, dict]:
        out: dict[str, dict] = {}
        for family, actor in self.actors.items():
            entry = {**actor.stats.as_dict(), "capacity": actor.capacity, "queueSize": actor.queue_size}
            try:
                details = actor.health()
            except Exception:
                log.exception("actor %s: health details failed", actor.name)
                details = {}
            if details:
                entry["details"] = details
            out[family.value] = entry
        return out

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            for actor in self.actors.values():
                nursery.start_soon(self._keep_running, actor)
            task_status.started()

    async def _keep_running(self, actor: Actor) -> None:
        """Run an actor for the life of the service; a crash is logged and followed by a restart (jobs
        not yet started wait for it). When the supervisor stops, every job the actor has not started is
        answered, so that none is left without a reply."""
        backoff = 0.5
        try:
            while True:
                began = trio.current_time()
                try:
                    await actor.run()
                    return  # mailbox closed: a clean stop
                except Exception:
                    log.exception("actor %s crashed; restarting in %.1f s", actor.name, backoff)
                actor.stats.restarts += 1
                if trio.current_time() - began > 60:
                    backoff = 0.5
                await trio.sleep(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            actor.stop()
