"""What runs inside a worker process: look the tool up, run it, package its outputs."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

from actors import sandbox
from actors.processes import FAST_NICE
from protocols.errors import ToolError
from protocols.tools import ToolCall, ToolResult


def invoke(tool_id: str, call: ToolCall) -> ToolResult:
    """Run a tool by id (loads the whole catalog: for tests and tools)."""
    from actors import catalog

    with sandbox.job_scope(call.workdir, call.inputs):
        return finish(catalog.load()[tool_id].run(call), call)


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
    every job and unmapped them after it, so each job faulted on every 4 KB page it touched again: ~540
    page faults per resize of the bench's 12 MP JPEG, about 1 ms of a 40 ms job on the 2-core VM; 48
    with this setting. Blocks from KEEP_FREED_BELOW up are still mapped and unmapped on their own, so one
    huge image does not stay resident in an idle worker. False where the C library is not glibc."""
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


def run_tool_fn(fn: Callable[[ToolCall], ToolResult], call: ToolCall) -> ToolResult:
    """What a worker process runs: `fn` arrives pickled by reference, so the worker imports only the
    module of that one tool (not the whole catalog)."""
    prepare_process()
    with sandbox.job_scope(call.workdir, call.inputs):
        return finish(fn(call), call)


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


def write_zip(archive: Path, files: list[Path]) -> None:
    stored = {".jpg", ".jpeg", ".png", ".webp", ".avif", ".heic", ".heif", ".gif", ".zip", ".mp4", ".mp3", ".webm"}
    with zipfile.ZipFile(archive, "w") as zf:
        for path in files:
            method = zipfile.ZIP_STORED if path.suffix.lower() in stored else zipfile.ZIP_DEFLATED
            zf.write(path, arcname=path.name, compress_type=method)


def unique_path(path: Path) -> Path:
    if not path.exists():
        return path
    n = 1
    while True:
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
        if not candidate.exists():
            return candidate
        n += 1
