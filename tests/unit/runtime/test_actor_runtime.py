"""The actor runtime: capacity, backpressure, deadlines, cancellation, crash isolation, restart."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
import trio
import trio_parallel

from actors.runtime import Actor
from actors.supervisor import Supervisor
from protocols.errors import ApiError, ErrorCode, ToolError
from protocols.jobs import Done, Failed, Job, Progress
from protocols.tools import Family, ToolCall, ToolResult, ToolSettings


class SleepyActor(Actor):
    name = "sleepy"

    def __init__(self, capacity=2, queue_size=4):
        super().__init__(capacity, queue_size)
        self.concurrent = 0
        self.peak = 0

    async def execute(self, job: Job) -> ToolResult:
        self.concurrent += 1
        self.peak = max(self.peak, self.concurrent)
        try:
            what = job.meta.get("do", "sleep")
            if what == "raise":
                raise ToolError("bad input here")
            if what == "bug":
                raise RuntimeError("/secret/path exploded")
            await trio.sleep(job.meta.get("seconds", 0.05))
            return ToolResult([])
        finally:
            self.concurrent -= 1


class StartRecordingActor(SleepyActor):
    """Records ("start", job id) in the jobs' event list when a job's work begins."""

    def __init__(self, events: list, **kw):
        super().__init__(**kw)
        self.events = events

    async def execute(self, job: Job) -> ToolResult:
        self.events.append(("start", job.id))
        return await super().execute(job)


def make_job(job_id, events, deadline=10.0, **meta):
    call = ToolCall(inputs=[], names=[], settings=ToolSettings(), workdir=Path("."))
    return Job(id=job_id, tool_id="x", call=call, deadline_s=deadline, reply=events.append, meta=meta)


def terminal(events, job_id):
    return [e for e in events if e.job_id == job_id and isinstance(e, Done | Failed)]


async def run_actor(actor, fn):
    async with trio.open_nursery() as nursery:
        nursery.start_soon(actor.run)
        await fn()
        nursery.cancel_scope.cancel()


async def test_capacity_limits_concurrency_and_every_job_ends_once():
    actor, events = SleepyActor(capacity=2, queue_size=10), []

    async def body():
        for i in range(6):
            actor.submit(make_job(f"j{i}", events))
        while sum(isinstance(e, Done) for e in events) < 6:
            await trio.sleep(0.01)

    await run_actor(actor, body)
    assert actor.peak == 2
    for i in range(6):
        assert len(terminal(events, f"j{i}")) == 1
    assert any(isinstance(e, Progress) for e in events)
    assert actor.stats.completed == 6 and actor.stats.running == 0


async def test_a_freed_slot_starts_the_waiting_job_before_the_finished_one_is_answered():
    """Under load the next job must reach its worker before the finished job's reply (and the HTTP
    response it wakes) runs: otherwise the worker idles meanwhile."""
    events: list = []
    actor = StartRecordingActor(events, capacity=1, queue_size=10)

    async def body():
        for name in "abc":
            actor.submit(make_job(name, events, seconds=0.01))
        with trio.fail_after(5):
            while len([e for e in events if isinstance(e, Done)]) < 3:
                await trio.sleep(0.01)

    await run_actor(actor, body)
    order = [e if isinstance(e, tuple) else (type(e).__name__, e.job_id) for e in events
             if isinstance(e, tuple | Done)]
    assert order == [("start", "a"), ("start", "b"), ("Done", "a"), ("start", "c"), ("Done", "b"), ("Done", "c")]
    assert actor.peak == 1


async def test_an_idle_actor_starts_a_job_at_once_and_a_busy_one_keeps_order():
    """With a slot free and nothing waiting, a job skips the mailbox and run loop (two scheduling rounds
    on every request's path); otherwise jobs still start in the order they came."""
    events: list = []
    actor = StartRecordingActor(events, capacity=1, queue_size=10)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)  # up and waiting for mail
        actor.submit(make_job("a", events, seconds=0.01))
        for _ in range(2):  # the round it starts in may run this task first (trio shuffles each round)
            await trio.lowlevel.checkpoint()
        assert ("start", "a") in events  # started in the first round; through the run loop, in the third
        for name in "bcd":
            actor.submit(make_job(name, events, seconds=0.005))
        with trio.fail_after(5):
            while len([e for e in events if isinstance(e, Done)]) < 4:
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert [e[1] for e in events if isinstance(e, tuple)] == ["a", "b", "c", "d"]
    assert actor.peak == 1 and actor.stats.queued == 0 and actor.stats.completed == 4


async def test_full_mailbox_answers_busy():
    actor, events = SleepyActor(capacity=1, queue_size=2), []
    actor.submit(make_job("a", events))
    actor.submit(make_job("b", events))
    with pytest.raises(ApiError) as err:
        actor.submit(make_job("c", events))
    assert err.value.code is ErrorCode.BUSY and err.value.status == 503 and "Retry-After" in err.value.headers


async def test_deadline_and_cancel():
    actor, events = SleepyActor(), []

    async def body():
        actor.submit(make_job("slow", events, deadline=0.1, seconds=30))
        actor.submit(make_job("victim", events, seconds=30))
        await trio.sleep(0.05)
        assert actor.cancel("victim")
        with trio.fail_after(5):
            while len([e for e in events if isinstance(e, Failed)]) < 2:
                await trio.sleep(0.01)

    await run_actor(actor, body)
    assert terminal(events, "slow")[0].code is ErrorCode.TIMEOUT
    assert terminal(events, "victim")[0].code is ErrorCode.CANCELED
    assert not actor.cancel("victim")  # already over


async def test_errors_fail_one_job_with_safe_messages():
    actor, events = SleepyActor(), []

    async def body():
        actor.submit(make_job("bad", events, do="raise"))
        actor.submit(make_job("bug", events, do="bug"))
        actor.submit(make_job("fine", events))
        with trio.fail_after(5):
            while len([e for e in events if isinstance(e, Done | Failed)]) < 3:
                await trio.sleep(0.01)

    await run_actor(actor, body)
    bad, bug, fine = (terminal(events, j)[0] for j in ("bad", "bug", "fine"))
    assert bad.message == "bad input here" and bad.status == 422
    assert bug.code is ErrorCode.PROCESSING_FAILED and "/secret" not in bug.message
    assert isinstance(fine, Done)


class CrashingLoopActor(SleepyActor):
    """Its run loop dies on the first job (a bug outside any job): the supervisor must restart it."""

    crashed = False

    async def setup(self, nursery):
        if not CrashingLoopActor.crashed:
            CrashingLoopActor.crashed = True
            raise RuntimeError("setup bug")


async def test_supervisor_restarts_a_crashed_actor():
    actor, events = CrashingLoopActor(), []
    supervisor = Supervisor([(Family.IMAGE, actor)], max_backoff_s=0.1)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        actor.submit(make_job("after", events))
        with trio.fail_after(10):
            while not terminal(events, "after"):
                await trio.sleep(0.01)
        nursery.cancel_scope.cancel()
    assert isinstance(terminal(events, "after")[0], Done)
    assert actor.stats.restarts >= 1


def _hang() -> None:
    import time

    time.sleep(60)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


async def test_worker_process_is_killed_on_cancel_and_crash_is_contained():
    with trio.move_on_after(1) as scope:
        await trio_parallel.run_sync(_hang, kill_on_cancel=True)
    assert scope.cancelled_caught
    with pytest.raises(trio_parallel.BrokenWorkerError):
        await trio_parallel.run_sync(_die, kill_on_cancel=True)
    assert await trio_parallel.run_sync(abs, -3) == 3  # the pool still works
