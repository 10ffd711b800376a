"""Bounded load scenarios against a Lutra server on 127.0.0.1, each compared with the bare library.

    python -m load.bench                       # starts its own server, runs the image scenarios
    python -m load.bench --url http://127.0.0.1:1349 --token si_...   # against a running server

Prints, per scenario and concurrency: requests/s, p50/p95/p99 latency, errors by status, the server's
peak RSS (main process, and with its worker processes), and HTTP throughput ÷ bare-library throughput
at the same concurrency. Every run is bounded by a request count and a time limit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
import psutil
import trio
import trio_parallel

from load import bare


@dataclass
class Scenario:
    name: str
    tool: str  # section/tool
    input_name: str
    settings: dict
    bare_fn: object  # callable(path, *args) run in a worker process
    bare_args: tuple
    requests: int = 40


@dataclass
class Result:
    scenario: str
    concurrency: int
    count: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    bare_per_s: float = 0.0
    rss_main_mb: float = 0.0
    rss_total_mb: float = 0.0

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def errors(self) -> int:
        return sum(v for k, v in self.statuses.items() if k != 200)

    def row(self) -> str:
        ratio = self.per_s / self.bare_per_s if self.bare_per_s else float("nan")
        return (f"{self.scenario:<14} c={self.concurrency:<2} {self.per_s:7.2f} req/s  p50 {self.pct(.5):7.1f} ms  "
                f"p95 {self.pct(.95):7.1f}  p99 {self.pct(.99):7.1f}  errors {self.errors:<3} "
                f"bare {self.bare_per_s:7.2f}/s  ratio {ratio:5.2f}  RSS main {self.rss_main_mb:5.0f} MB, "
                f"with workers {self.rss_total_mb:5.0f} MB")


def make_inputs(folder: Path) -> dict[str, Path]:
    import pyvips

    x = pyvips.Image.xyz(4000, 3000)
    big = (x[0] * (255 / 3999)).bandjoin([x[1] * (255 / 2999), (x[0] + x[1]) % 256]).cast("uchar")
    # texture so the JPEG is photo-sized (~3 MB), not a trivially compressible gradient
    noise = pyvips.Image.gaussnoise(4000, 3000, sigma=8).cast("uchar")
    big = (big + noise.bandjoin([noise, noise])).cast("uchar").copy(interpretation="srgb")
    paths = {"large.jpg": folder / "large.jpg", "small.png": folder / "small.png"}
    big.jpegsave(str(paths["large.jpg"]), Q=90)
    big.thumbnail_image(200, height=150, size="force").pngsave(str(paths["small.png"]))
    return paths


SCENARIOS = {
    "resize-large": Scenario("resize-large", "image/resize", "large.jpg", {"width": 800}, bare.resize_jpeg, (800,), 40),
    "resize-small": Scenario("resize-small", "image/resize", "small.png", {"width": 100}, bare.resize_png, (100,), 200),
}


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
            await trio.sleep(0.05)


async def run_http(base: str, token: str | None, sc: Scenario, path: Path, concurrency: int, limit_s: float,
                   pid: int | None) -> Result:
    result = Result(sc.name, concurrency)
    # the multipart body is built once, so the client's own CPU stays out of the measurement as far as
    # possible (client and server share this machine)
    body, content_type = multipart_body(path, sc.settings)
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    remaining = sc.requests
    sampler = RssSampler(pid)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120,
                                 limits=httpx.Limits(max_connections=concurrency)) as client:
        # warm-up: one request per connection
        for _ in range(concurrency):
            await client.post(f"/api/v1/tools/{sc.tool}", content=body)

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                r = await client.post(f"/api/v1/tools/{sc.tool}", content=body)
                result.latencies.append(time.perf_counter() - t0)
                result.statuses[r.status_code] += 1
                result.count += 1

        start = time.perf_counter()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sampler.run)
            with trio.move_on_after(limit_s):
                async with trio.open_nursery() as workers:
                    for _ in range(concurrency):
                        workers.start_soon(worker)
            result.seconds = time.perf_counter() - start
            nursery.cancel_scope.cancel()
    result.rss_main_mb, result.rss_total_mb = sampler.peak_main / 1e6, sampler.peak_total / 1e6
    return result


def multipart_body(path: Path, settings: dict) -> tuple[bytes, str]:
    boundary = "lutrabench7d1f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="settings"\r\n\r\n{json.dumps(settings)}\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode(),
        path.read_bytes(),
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


async def run_bare(sc: Scenario, path: Path, concurrency: int, limit_s: float) -> float:
    """Throughput of the bare library call in `concurrency` worker processes."""
    limiter = trio.CapacityLimiter(concurrency)
    async with trio.open_nursery() as nursery:  # warm one process per slot
        for _ in range(concurrency):
            nursery.start_soon(lambda: trio_parallel.run_sync(sc.bare_fn, str(path), *sc.bare_args, limiter=limiter))
    remaining = sc.requests
    done = 0

    async def worker() -> None:
        nonlocal remaining, done
        while remaining > 0:
            remaining -= 1
            await trio_parallel.run_sync(sc.bare_fn, str(path), *sc.bare_args, limiter=limiter)
            done += 1

    start = time.perf_counter()
    with trio.move_on_after(limit_s):
        async with trio.open_nursery() as nursery:
            for _ in range(concurrency):
                nursery.start_soon(worker)
    return done / (time.perf_counter() - start)


def start_server(data_dir: Path):
    """Start `lutra serve` on a free loopback port; returns (process, base_url, token)."""
    import subprocess

    from tests.helpers import Server

    srv = Server(data_dir, {"LOG_LEVEL": "warning", "RATE_LIMIT_PER_MIN": "0"})
    srv.start()
    assert isinstance(srv.proc, subprocess.Popen)
    return srv


async def main_async(args: argparse.Namespace) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="lutra-bench-"))
    inputs = make_inputs(folder)
    srv = None
    if args.url:
        host = urlparse(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("the load harness only targets 127.0.0.1")
        base, token, pid = args.url, args.token, args.pid
    else:
        srv = start_server(folder / "data")
        base, token, pid = srv.base_url, srv.token, srv.proc.pid
    results = []
    try:
        names = list(SCENARIOS) if args.scenario == "all" else args.scenario.split(",")
        for name in names:
            sc = SCENARIOS[name]
            if args.requests:
                sc.requests = args.requests
            for c in args.concurrency:
                res = await run_http(base, token, sc, inputs[sc.input_name], c, args.limit_s, pid)
                res.bare_per_s = await run_bare(sc, inputs[sc.input_name], c, args.limit_s)
                print(res.row(), flush=True)
                results.append(res)
    finally:
        if srv is not None:
            srv.stop()
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server on 127.0.0.1 (default: start one)")
    p.add_argument("--token", default=os.environ.get("LUTRA_TOKEN"), help="session token or si_ API key")
    p.add_argument("--pid", type=int, help="the server's pid, for RSS sampling")
    p.add_argument("--scenario", default="all", help=f"comma-separated: {', '.join(SCENARIOS)} or all")
    p.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4])
    p.add_argument("--requests", type=int, default=0, help="requests per level (default: per scenario)")
    p.add_argument("--limit-s", type=float, default=60, help="time cap per level")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    print(f"lutra load harness: {os.cpu_count()} cores, python {sys.version.split()[0]}", flush=True)
    return trio.run(main_async, args)


if __name__ == "__main__":
    main()
