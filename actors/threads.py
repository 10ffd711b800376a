"""Threads for model inference, at a lower CPU priority than the rest of the server.

Model tools run in threads of the server process (a model loads once and is reused). With trio's own
thread cache they ran at the same priority as the event loop and the image worker processes, and their
native thread pools (onnxruntime's intra-op threads, ncnn's OpenMP threads, OpenCV's) took every core
while they ran: with two AI jobs running on a busy box, a 342-byte edit-metadata waited past SYNC_WAIT_MS.

These threads run as SCHED_BATCH at nice AI_NICE (Linux: per thread) from their start, and the threads that
the inference libraries create from them inherit that. The priorities (see actors.processes): the event
loop at 0, fast tool workers at FAST_NICE (5), long encoders at LONG_NICE (10), inference at 15: two AI
jobs run several busy threads each (the calling thread and the library's pool), so at 10 they still
outweighed a fast tool's one worker (`python -m load.soak --ai-fairness` measures it). When the box is
otherwise idle, inference still gets every core. They are dedicated threads: a niced thread is never handed back to trio's
general thread cache (an unprivileged process cannot raise its priority again), where it would slow
downloads and database work.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

import trio

from actors.processes import LONG_NICE

log = logging.getLogger("lutra.actors")
T = TypeVar("T")

# CFS weight 36 per thread, against 335 for a fast tool's worker (nice 5) and 1024 for the event loop
AI_NICE = LONG_NICE + 5


def lower_priority(nice: int = AI_NICE) -> None:
    """Make the calling thread a batch thread at nice `nice` (Linux: per thread id; elsewhere unchanged)."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), nice))
        if hasattr(os, "SCHED_BATCH"):
            os.sched_setscheduler(tid, os.SCHED_BATCH, os.sched_param(0))
    except OSError:
        log.warning("could not lower the priority of a model thread", exc_info=True)


class InferenceThreads:
    """Low-priority daemon threads, kept for reuse (like trio's thread cache, whose threads must not be niced);
    `run` awaits a function's result from trio. Each task reserves an idle thread or starts one, so no task
    waits behind another: how many run at once is the actor's capacity limiter's business. Daemon threads,
    as trio's: a server stopping mid-inference does not wait for the model."""

    def __init__(self, nice: int = AI_NICE) -> None:
        self.nice = nice
        self._tasks: queue.SimpleQueue[tuple[Callable[[], object], Callable[[Callable[[], object]], None]]] = (
            queue.SimpleQueue())
        self._idle = 0
        self._started = 0
        self._guard = threading.Lock()

    @property
    def threads(self) -> int:
        return self._started

    def _serve(self) -> None:
        lower_priority(self.nice)
        while True:
            fn, deliver = self._tasks.get()
            try:
                value = fn()
            except BaseException as err:  # handed to the awaiting task, which raises it
                deliver(_raiser(err))
            else:
                deliver(lambda value=value: value)
            with self._guard:
                self._idle += 1

    def _submit(self, fn: Callable[[], object], deliver: Callable[[Callable[[], object]], None]) -> None:
        with self._guard:
            if self._idle:
                self._idle -= 1  # that idle thread takes this task
            else:
                self._started += 1
                threading.Thread(target=self._serve, name=f"lutra-model-{self._started}", daemon=True).start()
        self._tasks.put((fn, deliver))

    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` in one of the threads. Cancelling abandons it: the job ends at once and the thread
        finishes in the background (as trio's `abandon_on_cancel=True`)."""
        token = trio.lowlevel.current_trio_token()
        finished = trio.Event()
        result: list[Callable[[], object]] = []

        def deliver(unwrap: Callable[[], object]) -> None:
            result.append(unwrap)
            try:
                token.run_sync_soon(finished.set)
            except trio.RunFinishedError:
                pass

        self._submit(fn, deliver)
        await finished.wait()
        return result[0]()  # type: ignore[return-value]


def _raiser(err: BaseException) -> Callable[[], object]:
    def unwrap() -> object:
        raise err

    return unwrap
