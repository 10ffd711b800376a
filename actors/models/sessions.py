"""The per-process cache of loaded model sessions, and the device they run on."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors.models.installed import model_path
from protocols.errors import ErrorCode, ToolError

log = logging.getLogger("lutra.models")


# ---- loaded sessions: once per process (= per actor), reused, within a memory budget ----------------
@dataclass
class _Loaded:
    value: Any
    bundle: str
    loaded_at: float = field(default_factory=time.time)
    uses: int = 0
    load_ms: float = 0.0
    size: int = 0  # bytes the load added to the process (resident), at least the model file's size
    last_used: float = field(default_factory=time.monotonic)


_sessions: dict[str, _Loaded] = {}
_session_locks: dict[str, threading.Lock] = {}
_sessions_guard = threading.Lock()
_job = threading.local()  # in a thread running a model job: the models it used, the resident size before
LOAD_COUNTS: dict[str, int] = {}
EVICTIONS: dict[str, int] = {}
_device = "auto"  # "auto" | "cpu" | "cuda"
_budget = 0  # bytes that loaded models may hold in this process; 0 = no limit


def set_memory_budget(megabytes: float) -> None:
    """Past this many MB of loaded models, the least recently used are unloaded (at the next load)."""
    global _budget
    _budget = max(0, int(megabytes * 1024 * 1024))
    with _sessions_guard:
        _enforce_budget(keep=None)


def set_device(device: str) -> None:
    """Force CPU or CUDA (used by deploy/gpu-check); evicts everything loaded."""
    global _device
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(device)
    _device = device
    evict()


def providers() -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if _device != "cpu" and "CUDAExecutionProvider" in available:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if _device == "cuda":
        raise ToolError("CUDA was requested but onnxruntime has no CUDA provider here.", ErrorCode.INTERNAL_ERROR, 500)
    return ["CPUExecutionProvider"]


def gpu_available() -> bool:
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" in ort.get_available_providers()


def cached(key: str, bundle_id: str, factory: Callable[[], Any], *, min_size: int = 0) -> Any:
    """The loaded object for `key`, created once by `factory` (thread-safe, one load per key). What a
    load adds to the process's resident memory (no less than `min_size`, the model file) counts against
    the memory budget; past it, the least recently used models are unloaded."""
    entry = _sessions.get(key)
    if entry is None:
        with _sessions_guard:
            lock = _session_locks.setdefault(key, threading.Lock())
        with lock:
            entry = _sessions.get(key)
            if entry is None:
                _trim_heap()  # so that what the load adds is not taken from pages freed earlier
                started, before = time.perf_counter(), _resident_bytes()
                entry = _Loaded(factory(), bundle_id)
                entry.load_ms = (time.perf_counter() - started) * 1000
                entry.size = max(_resident_bytes() - before, min_size)
                with _sessions_guard:
                    _sessions[key] = entry
                    _enforce_budget(keep=key)
                LOAD_COUNTS[key] = LOAD_COUNTS.get(key, 0) + 1
                log.info('{"event":"model_loaded","model":"%s","ms":%d,"mb":%d}', key, entry.load_ms,
                         entry.size >> 20)
                if getattr(_job, "used", None) is not None:
                    _job.before = _resident_bytes()  # the job's growth from here on is the model's use
    entry.uses += 1
    entry.last_used = time.monotonic()
    if getattr(_job, "used", None) is not None:
        _job.used.add(key)
    return entry.value


@contextlib.contextmanager
def job_memory() -> Iterator[None]:
    """Around one model job in this thread. What the process keeps resident after it (once freed heap
    pages are handed back) counts against the models the job used: an inference engine's buffer pools
    (ncnn keeps the largest image's working set, Real-ESRGAN's is over 1 GB) belong to its model. Then
    the budget is enforced, the models just used included: one that alone is over it is unloaded."""
    _job.used, _job.before = set(), _resident_bytes()
    try:
        yield
    finally:
        used, before = _job.used, _job.before
        _job.used = None
        if used:
            _trim_heap()
            growth = max(0, _resident_bytes() - before) // len(used)
            with _sessions_guard:
                for key in used:
                    entry = _sessions.get(key)
                    if entry is not None:
                        entry.size += growth
                _enforce_budget(keep=None)


def _enforce_budget(keep: str | None) -> None:
    """Unload least recently used models until the rest fit the budget (`keep`, just loaded for a job,
    stays even if it alone is over). A job still running on an unloaded model keeps it until it ends.
    Called with _sessions_guard held."""
    if not _budget:
        return
    dropped = False
    while sum(e.size for e in _sessions.values()) > _budget:
        # a model over the whole budget by itself goes first (it cannot stay); then the least recently used
        victims = sorted((e.size <= _budget, e.last_used, k) for k, e in _sessions.items() if k != keep)
        if not victims:
            break
        key = victims[0][-1]
        _sessions.pop(key)
        EVICTIONS[key] = EVICTIONS.get(key, 0) + 1
        log.info('{"event":"model_unloaded","model":"%s","reason":"memory budget"}', key)
        dropped = True
    if dropped:
        _release_freed_memory()


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _release_freed_memory() -> None:
    """After unloading: collect what only cycles kept alive, and hand the freed heap pages back."""
    import gc

    gc.collect()
    _trim_heap()


def _trim_heap() -> None:
    """Hand freed heap pages back to the system: glibc keeps them in its arenas (one per thread that
    allocated) otherwise, and the process's resident size would not go down."""
    import ctypes

    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def onnx_session(bundle_id: str, dest: str, *, path: Path | None = None):
    """An onnxruntime session for a model file of an installed bundle, loaded once and kept (within the
    memory budget)."""
    import onnxruntime as ort  # here, not in load(): the library is not part of any one model's size

    model = path or model_path(bundle_id, dest)

    def load():
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # no busy-waiting between operators: spinning pool threads burn CPU the fast tools could use
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        # no CPU memory arena: it grows to the largest inference's working set and keeps it for the
        # session's life (hundreds of MB per segmentation model at 1024x1024); without it the buffers of
        # an inference are freed when it ends
        options.enable_cpu_mem_arena = False
        try:
            return ort.InferenceSession(str(model), sess_options=options, providers=providers())
        except Exception:
            log.exception("loading %s failed", model)
            raise ToolError("The model file could not be loaded; reinstall its bundle.", ErrorCode.PROCESSING_FAILED,
                            422) from None

    try:
        size = model.stat().st_size
    except OSError:
        size = 0
    return cached(f"{bundle_id}/{dest}@{model}", bundle_id, load, min_size=size)


def evict(bundle_id: str | None = None) -> None:
    with _sessions_guard:
        for key in [k for k, v in _sessions.items() if bundle_id is None or v.bundle == bundle_id]:
            _sessions.pop(key, None)


def loaded() -> list[dict[str, Any]]:
    return [
        {"model": key.split("@", 1)[0], "bundle": v.bundle, "loadedAt": v.loaded_at, "uses": v.uses,
         "loadMs": round(v.load_ms, 1), "loads": LOAD_COUNTS.get(key, 1), "memoryMb": round(v.size / 1048576, 1)}
        for key, v in list(_sessions.items())
    ]


def memory_info() -> dict[str, Any]:
    """What loaded models hold against the budget, and how many were unloaded to stay within it."""
    return {
        "budgetMb": round(_budget / 1048576, 1) if _budget else None,
        "residentModelsMb": round(sum(e.size for e in list(_sessions.values())) / 1048576, 1),
        "processRssMb": round(_resident_bytes() / 1048576, 1),
        "unloads": sum(EVICTIONS.values()),
    }


def runtime_info() -> dict[str, Any]:
    try:
        import onnxruntime as ort

        available = ort.get_available_providers()
        in_use = providers()
    except (ImportError, ToolError):
        available, in_use = [], []
    return {
        "gpu": "CUDAExecutionProvider" in available,
        "device": _device,
        "providers": in_use,
        "availableProviders": available,
        "loadedModels": loaded(),
        "modelMemory": memory_info(),
        # every model load this process has done (a reload after an eviction counts again): a second
        # request for a loaded model leaves it unchanged
        "modelLoads": sum(LOAD_COUNTS.values()),
    }
