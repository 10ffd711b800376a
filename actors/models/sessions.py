"""The per-process cache of loaded model sessions, and the device they run on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from actors.models.installed import model_path
from protocols.errors import ErrorCode, ToolError

log = logging.getLogger("lutra.models")


# ---- loaded sessions: once per process (= per actor), reused ------------------------------------
@dataclass
class _Loaded:
    value: Any
    bundle: str
    loaded_at: float = field(default_factory=time.time)
    uses: int = 0
    load_ms: float = 0.0


_sessions: dict[str, _Loaded] = {}
_session_locks: dict[str, threading.Lock] = {}
_sessions_guard = threading.Lock()
LOAD_COUNTS: dict[str, int] = {}
_device = "auto"  # "auto" | "cpu" | "cuda"


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


def cached(key: str, bundle_id: str, factory: Callable[[], Any]) -> Any:
    """The loaded object for `key`, created once by `factory` (thread-safe, one load per key)."""
    entry = _sessions.get(key)
    if entry is None:
        with _sessions_guard:
            lock = _session_locks.setdefault(key, threading.Lock())
        with lock:
            entry = _sessions.get(key)
            if entry is None:
                started = time.perf_counter()
                entry = _Loaded(factory(), bundle_id)
                entry.load_ms = (time.perf_counter() - started) * 1000
                _sessions[key] = entry
                LOAD_COUNTS[key] = LOAD_COUNTS.get(key, 0) + 1
                log.info('{"event":"model_loaded","model":"%s","ms":%d}', key, entry.load_ms)
    entry.uses += 1
    return entry.value


def onnx_session(bundle_id: str, dest: str, *, path: Path | None = None):
    """An onnxruntime session for a model file of an installed bundle, loaded once and kept."""
    model = path or model_path(bundle_id, dest)

    def load():
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        try:
            return ort.InferenceSession(str(model), sess_options=options, providers=providers())
        except Exception:
            log.exception("loading %s failed", model)
            raise ToolError("The model file could not be loaded; reinstall its bundle.", ErrorCode.PROCESSING_FAILED,
                            422) from None

    return cached(f"{bundle_id}/{dest}@{model}", bundle_id, load)


def evict(bundle_id: str | None = None) -> None:
    with _sessions_guard:
        for key in [k for k, v in _sessions.items() if bundle_id is None or v.bundle == bundle_id]:
            _sessions.pop(key, None)


def loaded() -> list[dict[str, Any]]:
    return [
        {"model": key.split("@", 1)[0], "bundle": v.bundle, "loadedAt": v.loaded_at, "uses": v.uses,
         "loadMs": round(v.load_ms, 1), "loads": LOAD_COUNTS.get(key, 1)}
        for key, v in list(_sessions.items())
    ]


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
        # every model load this process has done (a reload after an eviction counts again): a second
        # request for a loaded model leaves it unchanged
        "modelLoads": sum(LOAD_COUNTS.values()),
    }
