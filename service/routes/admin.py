"""GET /api/v1/admin/health (system:health): uptime, storage, database, queues per actor, GPU."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time

import trio
from quart import Blueprint, current_app

from actors import sandbox
from service.apidoc import ANY_OBJECT, NUM, STR, doc, json_content, obj
from service.auth import require
from service.config import VERSION
from service.responses import json_response

log = logging.getLogger("lutra.admin")

bp = Blueprint("admin", __name__)

GPU_CACHE_S = 60.0
_gpu_cache: tuple[float, dict] | None = None


async def gpu_status() -> dict:
    """nvidia-smi present and answering = a GPU is usable; its names and memory come with it. Cached."""
    global _gpu_cache
    now = time.monotonic()
    if _gpu_cache is not None and now - _gpu_cache[0] < GPU_CACHE_S:
        return _gpu_cache[1]
    result: dict = {"available": False, "devices": []}
    exe = shutil.which("nvidia-smi")
    if exe is not None:
        try:
            with trio.fail_after(10):
                proc = await trio.run_process(
                    [exe, "--query-gpu=name,memory.total,memory.used,driver_version", "--format=csv,noheader,nounits"],
                    capture_stdout=True, capture_stderr=True, check=False)
            if proc.returncode == 0:
                result["devices"] = parse_nvidia_smi(proc.stdout.decode(errors="replace"))
                result["available"] = bool(result["devices"])
        except (OSError, trio.TooSlowError, subprocess.SubprocessError):
            log.warning("nvidia-smi did not answer")
    result["provider"] = "cuda" if result["available"] else "cpu"
    _gpu_cache = (now, result)
    return result


def parse_nvidia_smi(text: str) -> list[dict]:
    """`--query-gpu=name,memory.total,memory.used,driver_version --format=csv,noheader,nounits` lines."""
    devices = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 4 and parts[0]:
            devices.append({"name": parts[0], "memoryTotalMb": _num(parts[1]), "memoryUsedMb": _num(parts[2]),
                            "driver": parts[3]})
    return devices


def _num(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _storage(data_dir) -> dict:
    usage = shutil.disk_usage(data_dir)
    return {"mode": "local", "totalBytes": usage.total, "usedBytes": usage.used, "freeBytes": usage.free}


@bp.get("/api/v1/admin/health")
@doc(
    "System", "Detailed diagnostics",
    "Uptime, storage, database, queue state per actor, GPU (nvidia-smi) and the ONNX provider.",
    responses={200: obj({"status": STR, "version": STR, "uptimeS": NUM, "storage": ANY_OBJECT,
                         "database": ANY_OBJECT, "queue": ANY_OBJECT, "gpu": ANY_OBJECT},
                        ("status", "version")),
               503: ("The database is unreachable", {"content": json_content(ANY_OBJECT)})})
@require("system:health")
async def admin_health():
    services = current_app.lutra
    db_ok = await services.store.ping()
    queues = services.supervisor.stats()
    uptime = time.time() - services.started_at
    body = {
        "status": "healthy" if db_ok else "unhealthy",
        "version": VERSION,
        "uptimeS": round(uptime, 1),
        "uptime": round(uptime, 1),
        "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(services.started_at)),
        "storage": await trio.to_thread.run_sync(_storage, services.config.data_dir),
        "database": {"status": "ok" if db_ok else "unreachable",
                     "dialect": services.store.engine.dialect.name},
        "queue": {
            "totalQueued": sum(s.get("queued", 0) for s in queues.values()),
            "totalRunning": sum(s.get("running", 0) for s in queues.values()),
            "actors": queues,
        },
        "gpu": await gpu_status(),
        "sandbox": sandbox.status(),
    }
    if services.cluster is not None:  # several nodes: every node, its heartbeat and capacities, queue depth
        try:
            body["cluster"] = await services.cluster.health()
        except Exception:
            log.exception("admin health: the cluster's state could not be read")
            body["cluster"] = {"status": "unreachable"}
    return json_response(body, 200 if db_ok else 503)
