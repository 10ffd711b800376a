"""Processes a sandboxed program leaves: finding them, stopping them all, and starting a program that
must outlive the call that starts it (no orphans, no early death)."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import threading


# ---- stopping ------------------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    """Every process below `pid` (the sandbox's init and the program inside it), parents first."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop(0)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{current}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


def running(pid: int) -> bool:
    """Whether `pid` is alive (not gone, not a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


async def kill(process) -> None:
    """Stop a started program and everything under it now, and return only once they are gone: killing
    bwrap alone would leave the program to die a moment later (its death signal), after the job ended."""
    import signal

    import trio

    below = descendants(process.pid)
    for pid in [process.pid, *below]:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    await process.wait()
    # shielded: trio.run_process cancels its deliver_cancel as soon as bwrap itself has exited, which is
    # before the program under it is gone
    with trio.CancelScope(shield=True), trio.move_on_after(5):
        while any(running(pid) for pid in below):
            await trio.sleep(0.005)


# ---- long-lived programs ----------------------------------------------------------------------------
_spawner: tuple[threading.Thread, queue.SimpleQueue] | None = None
_spawner_lock = threading.Lock()


def popen_lasting(argv: list[str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen from a thread that lives as long as this process. `--die-with-parent` (and any
    PR_SET_PDEATHSIG) fires when the *thread* that started the program ends; a program that outlives the
    call that started it (the warm LibreOffice, started from a trio worker thread that ends when idle)
    must be started from a thread that does not."""
    global _spawner
    with _spawner_lock:
        if _spawner is None or not _spawner[0].is_alive():
            requests: queue.SimpleQueue = queue.SimpleQueue()
            thread = threading.Thread(target=_spawn_forever, args=(requests,), name="lutra-spawner", daemon=True)
            thread.start()
            _spawner = (thread, requests)
    reply: queue.SimpleQueue = queue.SimpleQueue()
    _spawner[1].put((argv, kwargs, reply))
    ok, value = reply.get()
    if not ok:
        raise value
    return value


def _spawn_forever(requests: queue.SimpleQueue) -> None:
    while True:
        argv, kwargs, reply = requests.get()
        try:
            reply.put((True, subprocess.Popen(argv, **kwargs)))
        except BaseException as err:  # handed to the caller
            reply.put((False, err))
