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


class Work(ToolSettings):
    """What a test job does: sleep for `seconds`, raise a tool error, or hit a bug."""

    do: str = "sleep"
    seconds: float = 0.05


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
            what = job.call.settings.do
            if what == "raise":
                raise ToolError("bad input here")
            if what == "bug":
                raise RuntimeError("/secret/path exploded")
            await trio.sleep(job.call.settings.seconds)
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


def make_job(job_id, events, deadline=10.0, **work):
    call = ToolCall(inputs=[], names=[], settings=Work(**work), workdir=Path("."))
    return Job(id=job_id, tool_id="x", call=call, deadline_s=deadline, reply=events.append)


def terminal(events, job_id):
    return [e for e in events if isinstance(e, Done | Failed) and e.job_id == job_id]


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


async def test_jobs_start_in_the_order_they_came():
    events: list = []
    actor = StartRecordingActor(events, capacity=1, queue_size=10)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)  # up and waiting for mail
        for name in "abcd":
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


# ---- every accepted job ends in exactly one Done or Failed, whatever happens to its actor ----------------


class LoopBugActor(StartRecordingActor):
    """Its run loop dies when `crash()` is called: a background task started at setup raises, as a bug
    outside any job would."""

    def __init__(self, events: list, **kw):
        super().__init__(events, **kw)
        self._crash = trio.Event()

    async def setup(self, nursery):
        self._crash = trio.Event()
        nursery.start_soon(self._die_on_crash, self._crash)

    @staticmethod
    async def _die_on_crash(event):
        await event.wait()
        raise RuntimeError("a bug in the run loop")

    def crash(self):
        self._crash.set()


async def wait_until(predicate, timeout=10):
    with trio.fail_after(timeout):
        while not predicate():
            await trio.sleep(0.01)


def ended_once(events, job_ids):
    return all(len(terminal(events, job_id)) == 1 for job_id in job_ids)


async def test_a_job_waiting_for_a_slot_survives_the_run_loop_dying():
    events: list = []
    actor = LoopBugActor(events, capacity=1, queue_size=10)
    supervisor = Supervisor([(Family.IMAGE, actor)], max_backoff_s=0.05)
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        actor.submit(make_job("running", events, seconds=30))
        actor.submit(make_job("waiting", events, seconds=0.01))
        await wait_until(lambda: ("start", "running") in events and actor._waiting is not None)
        actor.crash()
        await wait_until(lambda: ended_once(events, ["running", "waiting"]))
        await trio.sleep(0.05)  # nothing more arrives for either
        nursery.cancel_scope.cancel()
    running, waiting = terminal(events, "running"), terminal(events, "waiting")
    assert len(running) == 1 and running[0].code is ErrorCode.INTERNAL_ERROR and running[0].status == 500
    assert len(waiting) == 1 and isinstance(waiting[0], Done)  # it ran after the restart
    assert actor.stats.restarts == 1 and actor.stats.running == 0 and actor.stats.queued == 0


async def test_a_restart_while_jobs_are_queued_runs_them_after_it():
    events: list = []
    actor = LoopBugActor(events, capacity=2, queue_size=10)
    supervisor = Supervisor([(Family.IMAGE, actor)], max_backoff_s=0.05)
    names = [f"q{i}" for i in range(8)]
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        for name in names:
            actor.submit(make_job(name, events, seconds=30 if name in ("q0", "q1") else 0.01))
        await wait_until(lambda: ("start", "q1") in events)
        actor.crash()
        for name in ("late0", "late1"):  # submitted while the actor is down or restarting
            actor.submit(make_job(name, events, seconds=0.01))
        await wait_until(lambda: ended_once(events, [*names, "late0", "late1"]))
        await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    assert all(len(terminal(events, n)) == 1 for n in [*names, "late0", "late1"])
    assert [terminal(events, n)[0].code for n in ("q0", "q1")] == [ErrorCode.INTERNAL_ERROR] * 2
    assert all(isinstance(terminal(events, n)[0], Done) for n in [*names[2:], "late0", "late1"])
    assert actor.stats.completed == 8 and actor.stats.failed == 2 and actor.stats.queued == 0


async def test_a_cancel_while_waiting_answers_at_once_and_the_job_never_starts():
    events: list = []
    actor = StartRecordingActor(events, capacity=1, queue_size=10)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(make_job("busy", events, seconds=0.3))
        actor.submit(make_job("waiting", events))  # taken by the run loop, waits for the slot
        actor.submit(make_job("queued", events))  # still in the mailbox
        actor.submit(make_job("after", events, seconds=0.01))
        await wait_until(lambda: ("start", "busy") in events and actor._waiting is not None)
        assert actor.cancel("waiting") and actor.cancel("queued")
        for name in ("waiting", "queued"):  # answered at once, while "busy" still holds the slot
            assert [e.code for e in terminal(events, name)] == [ErrorCode.CANCELED]
        assert not terminal(events, "busy")
        assert not actor.cancel("waiting")  # already over
        await wait_until(lambda: ended_once(events, ["busy", "after"]))
        await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    assert ("start", "waiting") not in events and ("start", "queued") not in events
    assert [e[1] for e in events if isinstance(e, tuple)] == ["busy", "after"]
    assert ended_once(events, ["busy", "waiting", "queued", "after"])
    assert actor.stats.completed == 2 and actor.stats.failed == 2 and actor.stats.queued == 0


async def test_shutdown_with_a_full_mailbox_answers_every_job():
    events: list = []
    actor = StartRecordingActor(events, capacity=1, queue_size=3)
    supervisor = Supervisor([(Family.IMAGE, actor)], max_backoff_s=0.05)
    names = ["running", "waiting", "m1", "m2", "m3"]
    async with trio.open_nursery() as nursery:
        await nursery.start(supervisor.run)
        actor.submit(make_job("running", events, seconds=30))
        await wait_until(lambda: ("start", "running") in events)
        actor.submit(make_job("waiting", events, seconds=30))
        await wait_until(lambda: actor._waiting is not None)
        for name in ("m1", "m2", "m3"):
            actor.submit(make_job(name, events))
        with pytest.raises(ApiError) as full:
            actor.submit(make_job("refused", events))
        assert full.value.code is ErrorCode.BUSY
        nursery.cancel_scope.cancel()  # the server shuts down
    assert ended_once(events, names)
    assert all(isinstance(terminal(events, n)[0], Failed) for n in names)
    assert not terminal(events, "refused")
    assert [e[1] for e in events if isinstance(e, tuple)] == ["running"]
    with pytest.raises(ApiError) as stopped:  # a stopped actor accepts nothing it could not answer
        actor.submit(make_job("late", events))
    assert stopped.value.code is ErrorCode.BUSY and not terminal(events, "late")
    assert actor.stats.failed == 5 and actor.stats.queued == 0 and actor.stats.running == 0


async def test_a_job_whose_tool_needs_a_missing_bundle_is_refused_before_it_is_queued(tmp_path, monkeypatch):
    """`@tool(requires=...)` is enforced by the runtime for every actor: 501 naming the bundle, nothing queued."""
    from actors import catalog
    from actors.models import installed

    spec = catalog.load()["colorize"]
    monkeypatch.setattr(installed, "_models_dir", tmp_path / "no-models")  # an empty models folder
    events: list = []
    actor = SleepyActor()
    call = ToolCall(inputs=[], names=[], settings=spec.settings(), workdir=tmp_path)
    with pytest.raises(ApiError) as refused:
        actor.submit(Job(id="needs-model", tool_id="colorize", call=call, deadline_s=10, reply=events.append))
    bundle = spec.requires(spec.settings())[0]
    assert refused.value.status == 501 and refused.value.code is ErrorCode.FEATURE_NOT_INSTALLED
    assert bundle in refused.value.message
    assert events == [] and actor.stats.queued == 0 and not actor.cancel("needs-model")
