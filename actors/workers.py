"""How a tool runs: where its `@tool(runs=...)` says (a worker process, the actor's event loop, a thread
beside loaded models), then finished: its outputs checked and several zipped. Also what a worker process
does once at start."""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trio
import trio_parallel

from actors import models, sandbox
from actors.archive import write_zip
from actors.processes import FAST_NICE
from actors.threads import InferenceThreads
from protocols.errors import ToolError
from protocols.tools import Runs, ToolCall, ToolFn, ToolResult, ToolSpec

# Model tools' threads (one set per process, low CPU priority: see actors.threads)
threads = InferenceThreads()
_unlimited = contextlib.nullcontext()

Report = Callable[[float, "str | None"], None]  # progress 0..100 and a message


async def run_tool(spec: ToolSpec, call: ToolCall, *, limiter: trio.CapacityLimiter | None = None,
                   progress: Report | None = None,
                   context: trio_parallel.WorkerContext | None = None) -> ToolResult:
    """The one way an actor runs a tool. `limiter` bounds its worker processes or threads; `progress`
    reaches tools that run in the server process (a callback does not cross into a worker); `context` is
    the actor's own (confined) worker processes, if it has them."""
    if spec.runs is Runs.WORKER:
        call.progress = None
        run_sync = context.run_sync if context is not None else trio_parallel.run_sync
        return await run_sync(in_worker, spec.run, call, kill_on_cancel=True, limiter=limiter)
    if spec.runs is Runs.THREAD:
        call.progress = None if progress is None else _from_thread(progress, trio.lowlevel.current_trio_token())
        async with limiter or _unlimited:
            # cancelling abandons the thread: the job ends at once, the thread finishes in the background
            return await threads.run(functools.partial(in_model_thread, spec.run, call))
    call.progress = progress
    with sandbox.job_scope(call.workdir, call.inputs):
        return finish(await spec.run(call), call)


def run_here(fn: ToolFn, call: ToolCall) -> ToolResult:
    """Run a tool's function in this thread and finish it: what a worker process and a model thread do;
    the tests and the bare side of the bench call it too. An event-loop tool gets a trio run of its own."""
    with sandbox.job_scope(call.workdir, call.inputs):
        result = fn(call)
        if inspect.isawaitable(result):
            result = trio.run(_wait, result)
        return finish(result, call)


def in_worker(fn: ToolFn, call: ToolCall) -> ToolResult:
    """What a worker process runs: `fn` arrives pickled by reference, so the worker imports only the
    module of that one tool (not the whole catalog)."""
    prepare_process()
    return run_here(fn, call)


def in_model_thread(fn: ToolFn, call: ToolCall) -> ToolResult:
    """What a thread beside the loaded models runs: what the job's models keep resident counts against
    the model memory budget (MODEL_MEMORY_MB)."""
    with models.job_memory():
        return run_here(fn, call)


async def _wait(awaitable: Any) -> Any:
    return await awaitable


def _from_thread(report: Report, token: trio.lowlevel.TrioToken) -> Report:
    def relay(percent: float, message: str | None = None) -> None:
        try:
            trio.from_thread.run_sync(report, percent, message, trio_token=token)
        except (trio.RunFinishedError, trio.Cancelled):
            pass

    return relay


_prepared = False

# glibc mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
# Blocks of this size or more are mapped on their own and unmapped when freed; free memory above the
# heap's top is handed back to the system past twice that.
KEEP_FREED_BELOW = 16 << 20


def prepare_process() -> None:
    """Once per worker process: lower its CPU priority and let it keep the memory it frees."""
    global _prepared
    if _prepared:
        return
    _prepared = True
    yield_to_the_server()
    keep_freed_memory()


def yield_to_the_server() -> None:
    """Run as a batch job at a lower priority than the server process. On a box whose cores are all
    busy with tool work, the event loop (uploads, dispatch, progress, health) then gets a core the
    moment it has something to do instead of waiting out a worker's time slice; the workers lose almost
    nothing, since the loop needs little CPU."""
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
        os.nice(FAST_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: run as we are
        pass


def keep_freed_memory() -> bool:
    """Have glibc's malloc reuse the buffers a job frees for the next job instead of returning them to
    the system. With its default, a worker mapped a decoded image's buffers (a few MB each) afresh for
    every job and unmapped them after it, so each job faulted on every 4 KB page it touched again. Blocks
    from KEEP_FREED_BELOW up are still mapped and unmapped on their own, so one huge image does not stay
    resident in an idle worker. False where the C library is not glibc."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, KEEP_FREED_BELOW)
                    and libc.mallopt(M_TRIM_THRESHOLD, 2 * KEEP_FREED_BELOW))
    except (OSError, AttributeError):
        return False


def warm(modules: tuple[str, ...] = ()) -> bool:
    """Run once per worker at start so the first real job does not pay the imports."""
    import importlib

    prepare_process()

    for name in modules:
        importlib.import_module(name)
    return True


def finish(result: ToolResult, call: ToolCall) -> ToolResult:
    """Check the outputs stay inside the job folder; several outputs are zipped, the ZIP listed first."""
    workdir = call.workdir.resolve()
    for path in result.outputs:
        if not path.resolve().is_relative_to(workdir) or not path.is_file():
            raise ToolError("The tool produced no output.")
    if len(result.outputs) > 1:
        archive = unique_path(workdir / f"{call.stem()}.zip")
        write_zip(archive, result.outputs)
        result.outputs = [archive, *result.outputs]
    return result


def unique_path(path: Path) -> Path:
    if not path.exists():
        return path
    n = 1
    while True:
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
        if not candidate.exists():
            return candidate
        n += 1
