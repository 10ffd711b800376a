"""Tool work runs below the server's CPU priority: workers at FAST_NICE (SCHED_BATCH), long encoders at
LONG_NICE, so neither a video burst nor a full worker pool starves the event loop or the fast tools."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from actors.processes import FAST_NICE, LONG_NICE, lowered


def test_lowered_programs_start_at_the_lower_priority():
    base = os.nice(0)
    out = subprocess.run(lowered(["nice"]), capture_output=True, text=True, check=True).stdout
    assert int(out) == min(19, base + LONG_NICE)
    out = subprocess.run(lowered(["nice"], FAST_NICE), capture_output=True, text=True, check=True).stdout
    assert int(out) == min(19, base + FAST_NICE)


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="os.SCHED_BATCH exists only on Linux: run this test on Linux")
def test_a_worker_process_yields_to_the_server_once():
    code = ("import os; from actors import workers; base = os.nice(0); workers.prepare_process(); "
            "workers.prepare_process(); print(os.nice(0) - base, os.sched_getscheduler(0) == os.SCHED_BATCH)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))).stdout
    step, batch = out.split()
    assert int(step) == FAST_NICE and batch == "True"  # applied once, not once per job


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="per-thread priorities are Linux's: run this test on Linux")
async def test_model_inference_runs_below_the_fast_tools(tmp_path):
    """AI tools run in the server process's threads: those run as batch threads at AI_NICE, below the fast
    tools' workers (FAST_NICE), and so do the threads an inference library starts from them; the event loop's
    thread keeps its priority."""
    import threading

    import trio

    from actors.threads import AI_NICE
    from actors.vision.actor import VisionActor
    from protocols.jobs import Done, Job
    from protocols.tools import REGISTRY, Family, Runs, Section, ToolCall, ToolResult, ToolSettings, ToolSpec

    def priority() -> tuple[int, int]:
        tid = threading.get_native_id()
        return os.getpriority(os.PRIO_PROCESS, tid), os.sched_getscheduler(tid)

    seen: dict[str, tuple[int, int]] = {}

    def probe(call: ToolCall) -> ToolResult:
        seen["job"] = priority()
        pool = threading.Thread(target=lambda: seen.setdefault("pool", priority()))  # like onnxruntime's pool
        pool.start()
        pool.join()
        out = call.workdir / "out.txt"
        out.write_text("ok")
        return ToolResult([out])

    # a model tool as `@tool(runs=Runs.THREAD)` in actors.vision would declare it
    REGISTRY["test-priority"] = ToolSpec("test-priority", Section.IMAGE, Family.VISION, ToolSettings, probe,
                                         runs=Runs.THREAD)
    loop_before = priority()
    actor = VisionActor(1, 8, tmp_path / "models")
    replies = []
    try:
        async with trio.open_nursery() as nursery:
            await nursery.start(actor.run)
            call = ToolCall(inputs=[], names=[], settings=ToolSettings(), workdir=tmp_path)
            actor.submit(Job("j1", "test-priority", call, 30, replies.append))
            with trio.fail_after(30):
                while not any(isinstance(r, Done) for r in replies):
                    await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    finally:
        REGISTRY.pop("test-priority", None)
    assert seen["job"] == (max(loop_before[0], AI_NICE), os.SCHED_BATCH)
    assert seen["pool"] == seen["job"]
    assert AI_NICE > FAST_NICE and priority() == loop_before  # the loop's thread is untouched


async def test_inference_threads_run_side_by_side_are_reused_and_pass_errors_back():
    import threading

    import trio

    from actors.threads import InferenceThreads

    threads = InferenceThreads()
    both = threading.Barrier(2, timeout=30)  # broken (an error) if the two runs were serialized
    async with trio.open_nursery() as nursery:
        for _ in range(2):
            nursery.start_soon(threads.run, both.wait)
    assert threads.threads == 2
    assert await threads.run(lambda: 6 * 7) == 42 and threads.threads == 2  # an idle thread was reused
    with pytest.raises(ZeroDivisionError):
        await threads.run(lambda: 1 / 0)
    # cancelling abandons the call: the task ends at once, the thread finishes in the background
    release = threading.Event()
    with trio.move_on_after(0.05) as scope:
        await threads.run(lambda: release.wait(30))
    assert scope.cancelled_caught
    release.set()
    assert await threads.run(lambda: "after") == "after"
