"""What the harness samples from the server while it runs: memory, descriptors, disk, queues."""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx
import psutil
import trio

from load import report


class RssSampler:
    def __init__(self, pid: int | None) -> None:
        self.proc = psutil.Process(pid) if pid else None
        self.peak_main = 0
        self.peak_total = 0

    async def run(self) -> None:
        if self.proc is None:
            return
        while True:
            try:
                main = self.proc.memory_info().rss
                total = main + sum(c.memory_info().rss for c in self.proc.children(recursive=True))
                self.peak_main, self.peak_total = max(self.peak_main, main), max(self.peak_total, total)
            except psutil.Error:
                pass
            await trio.sleep(0.2)  # each sample reads /proc for ~10 processes (~1.3 ms of CPU): keep it light


def tree_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                continue
    return total


def disk_use(data_dir: Path) -> dict:
    """Bytes under DATA_DIR: the job folders' kept outputs, `out/` ("retained"), everything else in the
    workspace ("scratch"), and the whole of DATA_DIR."""
    retained = scratch = jobs = 0
    workspace = data_dir / "workspace"
    try:
        entries = list(os.scandir(workspace))
    except FileNotFoundError:
        entries = []
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                scratch += entry.stat(follow_symlinks=False).st_size
                continue
            jobs += 1
            for sub in os.scandir(entry.path):
                size = tree_bytes(Path(sub.path)) if sub.is_dir(follow_symlinks=False) else sub.stat().st_size
                if sub.name == "out" and sub.is_dir(follow_symlinks=False):
                    retained += size
                else:
                    scratch += size
        except FileNotFoundError:
            continue
    other = sum(tree_bytes(Path(e.path)) if e.is_dir(follow_symlinks=False) else e.stat().st_size
                for e in os.scandir(data_dir) if e.name != "workspace") if data_dir.exists() else 0
    return {"retainedBytes": retained, "scratchBytes": scratch, "jobDirs": jobs,
            "dataDirBytes": retained + scratch + other}


CHILD_KINDS = (("python", "workers"), ("ffmpeg", "ffmpeg"), ("soffice", "office"), ("oosplash", "office"))


def process_use(pid: int) -> dict:
    """RSS and descriptors of the server's main process and of its children (by kind: tool worker
    processes, ffmpeg, LibreOffice, other)."""
    main = psutil.Process(pid)
    rss_main, fds_main = main.memory_info().rss, main.num_fds()
    rss_total, fds_total, children, workers, fds_workers = rss_main, fds_main, 0, 0, 0
    by_kind: dict[str, float] = {}
    for child in main.children(recursive=True):
        try:
            rss = child.memory_info().rss
            fds = child.num_fds()
            name = child.name()
        except psutil.Error:
            continue
        rss_total += rss
        fds_total += fds
        children += 1
        kind = next((k for prefix, k in CHILD_KINDS if name.startswith(prefix)), "other")
        by_kind[kind] = by_kind.get(kind, 0) + rss / 1e6
        if kind == "workers":
            workers, fds_workers = workers + 1, fds_workers + fds
    return {"rssMainMb": round(rss_main / 1e6, 1), "rssTotalMb": round(rss_total / 1e6, 1), "fdsMain": fds_main,
            "fdsTotal": fds_total, "children": children, "workers": workers, "fdsWorkers": fds_workers,
            "rssChildrenMb": {k: round(v, 1) for k, v in sorted(by_kind.items())}}


class Sampler:
    """Once a second: processes, disk (in a thread; less often when a walk is slow), queues per actor."""

    def __init__(self, base: str, token: str | None, pid: int | None, data_dir: Path | None,
                 interval_s: float = 1.0) -> None:
        self.base, self.token, self.pid, self.data_dir = base, token, pid, data_dir
        self.interval_s = interval_s
        self.samples: list[dict] = []
        self.phase = "start"
        self.t0 = time.time()
        self._disk: dict = {}
        self._disk_due = 0.0

    async def snapshot(self, client: httpx.AsyncClient, *, disk: bool = True) -> dict:
        sample: dict = {"t": round(time.time() - self.t0, 2), "phase": self.phase}
        if self.pid:
            try:
                sample.update(process_use(self.pid))
            except psutil.Error:
                pass
        if self.data_dir and (disk or time.monotonic() >= self._disk_due):
            began = time.monotonic()
            self._disk = await trio.to_thread.run_sync(disk_use, self.data_dir)
            self._disk_due = began + max(self.interval_s, 10 * (time.monotonic() - began))
        sample.update(self._disk)
        try:
            health = (await client.get("/api/v1/admin/health")).json()
            sample["queues"] = {name: {"queued": a.get("queued", 0), "running": a.get("running", 0)}
                                for name, a in health["queue"]["actors"].items()}
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        return sample

    async def mark(self, client: httpx.AsyncClient, phase: str) -> None:
        """A new phase begins: one sample at its start, however short the phase."""
        self.phase = phase
        self.samples.append(await self.snapshot(client))

    async def run(self, client: httpx.AsyncClient) -> None:
        tick = trio.current_time()
        while True:
            self.samples.append(await self.snapshot(client, disk=False))
            tick = max(tick + self.interval_s, trio.current_time())  # a slow snapshot skips, never piles up
            await trio.sleep_until(tick)

    async def drain(self, client: httpx.AsyncClient, limit_s: float = 600) -> None:
        """Until no actor has a job queued or running."""
        with trio.move_on_after(limit_s):
            while True:
                sample = await self.snapshot(client, disk=False)
                queues = sample.get("queues", {})
                if not any(q["queued"] or q["running"] for q in queues.values()):
                    return
                await trio.sleep(0.5)

    async def settled(self, client: httpx.AsyncClient, baseline: dict | None, limit_s: float = 20) -> dict:
        """A snapshot once descriptors and scratch are back to `baseline` (or after `limit_s`): closing
        connections and reaping children take a moment after the last response."""
        deadline = time.monotonic() + limit_s
        while True:
            sample = await self.snapshot(client)
            if baseline is None or time.monotonic() > deadline or all(
                    c["ok"] for c in report.back_to_baseline(baseline, sample).values()):
                return sample
            await trio.sleep(0.5)
