"""Which Lutra modules run for one upload: a real server, every process of it traced, one
POST /api/v1/tools/image/resize of a small PNG plus the download of its result.

    python -m load.upload_path            # prints the count and the modules, by layer
    python -m load.upload_path --json     # the same as JSON

The server (and every worker process it starts, through PYTHONPATH) loads a `sitecustomize` that logs, per
process, each Lutra file (actors/, service/, protocols/) with a Python call in each 50 ms slot. Three warm-up
requests (with their downloads) come first, so imports, worker start and first-use caches stay out of the
count; then each measured request runs between two wall-clock marks, and the server sits idle for as long
again (half a second at least). The result is the set of modules with a call inside every measured window (those that ran in some
windows only, such as a worker the pool started meanwhile, are listed apart); modules that also run while
idle are marked, since part of their work there may be background (timers, sampling).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from PIL import Image

from load.harness.server import ROOT, start_server

LAYERS = ("actors", "service", "protocols")
SLOT_S = 0.05
WARM_UPS = 3
# One line per (file, slot) the first time a process calls into that file in that slot. Written with
# os.write on a file of the process's own, so it survives fork, os._exit and SIGKILL of a worker.
SITECUSTOMIZE = '''
import os, sys, threading, time
_ROOT = {root!r}
_DIR = {out!r}
_PREFIXES = tuple(os.path.join(_ROOT, layer) + os.sep for layer in {layers!r})
_relevant = {{}}
_seen = set()
_fd = [None, None]  # (pid, fd)

def _hook(frame, event, arg):
    if event != "call":
        return
    name = frame.f_code.co_filename
    keep = _relevant.get(name)
    if keep is None:
        keep = _relevant[name] = name.startswith(_PREFIXES)
    if not keep:
        return
    slot = int(time.time() / {slot})
    key = (name, slot)
    if key in _seen:
        return
    _seen.add(key)
    pid = os.getpid()
    if _fd[0] != pid:
        try:
            _fd[1] = os.open(os.path.join(_DIR, f"{{pid}}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError:
            _fd[1] = -1
        _fd[0] = pid
    if _fd[1] >= 0:
        os.write(_fd[1], f"{{slot}} {{name}}\\n".encode())

sys.setprofile(_hook)
threading.setprofile(_hook)
'''


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client, png: bytes) -> None:
    r = client.post("/api/v1/tools/image/resize", files={"file": ("small.png", png, "image/png")},
                    data={"settings": json.dumps({"width": 32})})
    r.raise_for_status()
    body = r.json()
    got = client.get(body["downloadUrl"])
    got.raise_for_status()
    if Image.open(io.BytesIO(got.content)).size != (32, 24):
        raise RuntimeError("the resize did not give a 32 x 24 image")


def modules_between(trace_dir: Path, start: float, end: float) -> dict[str, set[int]]:
    """{module path relative to the repository: the pids that called into it} within [start, end]."""
    first, last = int(start / SLOT_S), int(end / SLOT_S)
    found: dict[str, set[int]] = defaultdict(set)
    for log in trace_dir.glob("*.log"):
        pid = int(log.stem)
        for line in log.read_text().splitlines():
            slot, _, name = line.partition(" ")
            if first <= int(slot) <= last:
                found[str(Path(name).relative_to(ROOT))].add(pid)
    return found


def measure(runs: int = 3) -> dict:
    """`runs` measured uploads on one warmed server; a module counts when it ran during every one of them
    (a worker that the pool starts or retires meanwhile adds modules to one run, not to all)."""
    with tempfile.TemporaryDirectory(prefix="lutra-upload-path-") as tmp:
        tmp_path = Path(tmp)
        trace_dir = tmp_path / "trace"
        site = tmp_path / "site"
        trace_dir.mkdir()
        site.mkdir()
        trace_dir.chmod(0o777)  # workers may run as another user
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(
            root=str(ROOT), out=str(trace_dir), layers=LAYERS, slot=SLOT_S))
        path = os.pathsep.join(p for p in (str(site), str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        server = start_server(tmp_path / "data", {"PYTHONPATH": path})
        windows = []  # (start, end, idle end) per run
        try:
            png = small_png()
            with server.client() as client:
                for _ in range(WARM_UPS):  # imports, worker start, caches, the pool's first spares
                    upload(client, png)
                time.sleep(1)
                for _ in range(runs):
                    start = time.time()
                    upload(client, png)
                    end = time.time()
                    idle_end = end + 2 * SLOT_S + max(end - start, 0.5)
                    windows.append((start, end, idle_end))
                    time.sleep(idle_end + 2 * SLOT_S - time.time())  # the next run starts slots later
                time.sleep(3 * SLOT_S)  # the last slot's lines are written
            server_pid = server.proc.pid
        finally:
            server.stop()
        during = [modules_between(trace_dir, start, end) for start, end, _ in windows]
        idle = set().union(*(modules_between(trace_dir, end + 2 * SLOT_S, idle_end)
                             for _, end, idle_end in windows))
        processes = {int(p.stem) for p in trace_dir.glob("*.log")}
    every = sorted(set.intersection(*(set(d) for d in during)))
    some = sorted(set().union(*during) - set(every))
    return {
        "runs": runs,
        "request_s": [round(end - start, 3) for start, end, _ in windows],
        "processes_traced": len(processes),
        "count": len(every),
        "modules": every,
        "in_some_runs": some,
        "also_idle": sorted(m for m in every + some if m in idle),
        "in_workers": sorted({m for d in during for m, pids in d.items() if pids - {server_pid}}),
        "by_layer": {layer: sum(m.startswith(layer + "/") for m in every) for layer in LAYERS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--runs", type=int, default=3, help="measured uploads (default 3)")
    args = parser.parse_args()
    result = measure(args.runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['count']} Lutra modules ran in each of {result['runs']} uploads + downloads "
          f"({result['by_layer']}; {result['processes_traced']} processes traced)")
    for module in result["modules"]:
        marks = [mark for mark, where in (("in a worker", "in_workers"), ("also runs while idle", "also_idle"))
                 if module in result[where]]
        note = f"  ({', '.join(marks)})" if marks else ""
        print(f"  {module}{note}")
    if result["in_some_runs"]:
        print(f"in some runs only (not counted): {', '.join(result['in_some_runs'])}")


if __name__ == "__main__":
    main()
