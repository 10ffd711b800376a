"""Concurrency sweep, soak and fairness runs against a Lutra server on 127.0.0.1, with reports.

    python -m load.soak --sweep 1,2,4,8,16 --minutes 20 --out load/results/soak  # full run (~30 min)
    python -m load.soak --sweep 1,2,4 --minutes 5 --out load/results/soak5   # shorter
    python -m load.soak --fairness --out load/results/fairness  # video burst vs image requests
    python -m load.soak --ai-fairness --out load/results/ai-fairness  # 2 AI jobs vs image requests
    python -m load.soak --scenario documents --sweep 1,2 --minutes 0      # one family's scenario

Starts its own server (like load.bench) unless --url is given (127.0.0.1 only; --pid and --data-dir then
let it sample the server's processes and disk). Every phase is bounded by a request count and a time.

Scenarios (`--scenario`): one per family (image, media, documents, data, ai: the AI one only runs the
tools whose bundle is installed) and `mixed`, weighted like real use: mostly fast image tools, some PDF
and data tools, a few short media jobs, a rare office conversion. Each client is its own process with a
plain HTTP client; a request picks a tool by weight, a 202 job is followed on its SSE stream to the end,
and a completed result is downloaded.

Phases: a warm-up (every tool of the scenario once: worker processes, LibreOffice, imports; then a round at the
highest concurrency, so that the shared worker pool has grown to its working size), a baseline,
the sweep (the scenario at each client count), a drain and an "after sweep" check, then the soak of the
mixed scenario for --minutes, a drain and an "after soak" check.

A sampler records once a second: server RSS (main process, and with its children: workers, ffmpeg,
LibreOffice), open descriptors (psutil num_fds, main and with children), disk use under DATA_DIR and
queued/running jobs per actor (GET /api/v1/admin/health).

Disk, decided: a finished job's outputs (`workspace/<jobId>/out`) are kept on purpose until
FILE_MAX_AGE_HOURS (downloads stay available), so they are measured and charted as "retained" but not held
to the baseline. Everything else under the workspace (uploads in `in/`, which the server removes when a
job ends, pipeline steps, temporary and stray files) is "scratch" and must be back to its baseline after
each phase, as must the descriptors (within report.FD_SLACK).

Verdict: zero errors, soak RSS growth after warm-up under 10 % (first minute of the soak against its last;
the sweep before it is the warm-up), descriptors and scratch disk back to baseline after the sweep and
after the soak. Files in --out: report.txt (table + verdict, also printed), samples.json (every sample,
the phases, the verdict), report.png (throughput per level, latency percentiles, queue depth per actor,
RSS and descriptors, disk over time; with --fairness the image p95 idle vs burst).

Fairness (`--fairness`): image requests at 2 clients while idle, then while a burst of long video jobs
(compress-video on a generated clip, more jobs than the media actor's capacity) runs; reports image p95
idle vs during the burst (target <= 2x) and how many image requests finished before the first video job
did (each actor has its own capacity: images are not queued behind video).

AI fairness (`--ai-fairness`): the same for AI inference. Image fast tools (a resize and a tiny
edit-metadata) at 2 clients while idle, then while `--ai-jobs` (2) AI jobs of `--ai-tool` run the whole time
(remove-background by default, on a generated subject; its bundle is installed when missing); reports the
image p95 idle vs during the AI jobs (target <= 2x), overall and per tool.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import trio
import trio_parallel

from load import report
from load.harness.clients import mixed_client, multipart_body
from load.harness.inputs import make_clip, mixed_inputs
from load.harness.sampling import Sampler
from load.harness.server import start_server


@dataclass(frozen=True)
class Item:
    name: str
    tool: str  # section/tool
    inputs: tuple[str, ...]  # names from mixed_inputs()
    settings: dict
    weight: float
    family: str
    bundle: str | None = None  # AI: only when this bundle is installed


# Weighted like real use: mostly fast image tools (~70 %), some PDF (~16 %) and data (~8 %), a few short
# media jobs (~5 %), a rare office conversion (~1 %).
ITEMS = [
    Item("resize", "image/resize", ("photo.jpg",), {"width": 800}, 25, "image"),
    Item("compress", "image/compress", ("photo.jpg",), {"quality": 70}, 15, "image"),
    Item("convert-webp", "image/convert", ("photo.jpg",), {"format": "webp", "quality": 80}, 12, "image"),
    Item("rotate", "image/rotate", ("small.png",), {"angle": 90}, 6, "image"),
    Item("strip-metadata", "image/strip-metadata", ("photo.jpg",), {}, 6, "image"),
    Item("image-info", "image/info", ("small.png",), {}, 6, "image"),
    Item("merge-pdf", "pdf/merge-pdf", ("doc0.pdf", "doc1.pdf"), {}, 6, "documents"),
    Item("pdf-to-text", "pdf/pdf-to-text", ("doc0.pdf",), {}, 6, "documents"),
    Item("rotate-pdf", "pdf/rotate-pdf", ("doc1.pdf",), {"angle": 90}, 4, "documents"),
    Item("word-to-pdf", "pdf/word-to-pdf", ("letter.docx",), {}, 1, "documents"),
    Item("csv-json", "files/csv-json", ("table.csv",), {}, 4, "data"),
    Item("yaml-json", "files/yaml-json", ("config.yaml",), {}, 2, "data"),
    Item("create-zip", "files/create-zip", ("table.csv", "doc0.pdf"), {}, 2, "data"),
    Item("trim-video", "video/trim-video", ("clip.mp4",), {"startS": 0.5, "endS": 1.5}, 2, "media"),
    Item("convert-audio", "audio/convert-audio", ("clip.mp4",), {"format": "mp3"}, 2, "media"),
    Item("mute-video", "video/mute-video", ("clip.mp4",), {}, 1, "media"),
    Item("ocr", "image/ocr", ("text.png",), {"quality": "fast"}, 1, "ai", "ocr"),
    Item("remove-background", "image/remove-background", ("subject.jpg",), {}, 1, "ai", "background-removal"),
]
FAMILIES = ("image", "media", "documents", "data", "ai")
FAIRNESS_IMAGE = Item("resize", "image/resize", ("photo.jpg",), {"width": 800}, 1, "image")
# AI fairness: the image fast tools measured (a resize, and a tiny edit-metadata as in issue 18), and the AI
# job kept running `--ai-jobs` times over (remove-background: onnxruntime; upscale: ncnn)
AI_FAIRNESS_IMAGES = [FAIRNESS_IMAGE, Item("edit-metadata", "image/edit-metadata", ("small.png",),
                                           {"title": "fairness"}, 1, "image")]
AI_LOADS = {
    "remove-background": Item("remove-background", "image/remove-background", ("subject.jpg",), {}, 1, "ai",
                              "background-removal"),
    "upscale": Item("upscale", "image/upscale", ("small.png",), {"scale": 4}, 1, "ai", "upscale-enhance"),
}


def scenario(name: str, *, office: bool = True, installed: frozenset[str] = frozenset()) -> list[Item]:
    """The items of a family's scenario or of `mixed` (AI items only when their bundle is installed)."""
    if name != "mixed" and name not in FAMILIES:
        raise SystemExit(f"unknown scenario {name!r}: mixed, {', '.join(FAMILIES)}")
    items = [i for i in ITEMS if name == "mixed" or i.family == name]
    items = [i for i in items if (office or i.name != "word-to-pdf") and (i.bundle is None or i.bundle in installed)]
    return items




def encoded(items: list[Item], inputs: dict[str, Path]) -> list[tuple[str, str, bytes, str, float]]:
    out = []
    for item in items:
        body, content_type = multipart_body([inputs[n] for n in item.inputs], item.settings)
        out.append((item.name, item.tool, body, content_type, item.weight))
    return out


async def drive(base: str, token: str | None, bodies: list, clients: int, count: int, limit_s: float,
                seed: int = 0) -> tuple[list[report.Record], float]:
    """`clients` client processes sharing `count` requests, within `limit_s`; returns records and seconds."""
    limiter = trio.CapacityLimiter(clients)
    async with trio.open_nursery() as warm:  # start the client processes first (imports), no requests
        for _ in range(clients):
            warm.start_soon(lambda: trio_parallel.run_sync(mixed_client, base, token, bodies, 0, 0.0, 0,
                                                           limiter=limiter))
    shares = [count // clients + (i < count % clients) for i in range(clients)]
    records: list[report.Record] = []
    deadline = time.time() + limit_s

    async def one(i: int, share: int) -> None:
        records.extend(await trio_parallel.run_sync(mixed_client, base, token, bodies, share, deadline,
                                                    seed * 1000 + i, limiter=limiter))

    start = time.perf_counter()
    async with trio.open_nursery() as nursery:
        for i, share in enumerate(shares):
            if share:
                nursery.start_soon(one, i, share)
    return records, time.perf_counter() - start


# ---- fairness ----------------------------------------------------------------------------------------------
async def fairness(base: str, token: str | None, inputs: dict[str, Path], sampler: Sampler,
                   client: httpx.AsyncClient, *, video_jobs: int, image_requests: int, clients: int = 2) -> dict:
    image = encoded([FAIRNESS_IMAGE], inputs)
    await sampler.mark(client, "fair-idle")
    idle, idle_s = await drive(base, token, image, clients, image_requests, 600, seed=7)
    await sampler.mark(client, "fair-burst")
    clip = inputs["fairness.mp4"].read_bytes()
    video_ends: list[float] = []
    video_seconds: list[float] = []
    video_statuses: list[int] = []
    job_ids = []
    for _ in range(video_jobs):
        r = await client.post("/api/v1/tools/video/compress-video", files={"file": ("fairness.mp4", clip)},
                              data={"settings": json.dumps({"quality": "strong", "resolution": "original"})})
        job_ids.append((r.status_code, r.json().get("jobId"), time.time()))

    async def follow(job_id: str, started: float) -> None:
        status = 599
        async with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", timeout=3600) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    frame = json.loads(line[6:])
                    if frame["status"] in ("completed", "failed", "canceled"):
                        status = 200 if frame["status"] == "completed" else 422
                        break
        video_ends.append(time.time())
        video_seconds.append(time.time() - started)
        video_statuses.append(status)

    async with trio.open_nursery() as nursery:
        for status, job_id, started in job_ids:
            if status == 202 and job_id:
                nursery.start_soon(follow, job_id, started)
            else:
                video_statuses.append(status)
        with trio.move_on_after(60):  # the burst starts when the media actor is busy
            while not (await sampler.snapshot(client, disk=False)).get("queues", {}).get("media", {}).get("running"):
                await trio.sleep(0.2)
        burst, burst_s = await drive(base, token, image, clients, image_requests, 600, seed=8)
        burst_done = time.time()
    first_video_end = min(video_ends) if video_ends else burst_done
    during = [r for r in burst if r[1] < first_video_end]
    idle_p95 = report.percentile_ms([r[2] for r in idle], .95)
    burst_p95 = report.percentile_ms([r[2] for r in during or burst], .95)
    return {
        "videoTool": "compress-video", "videoJobs": video_jobs, "videoStatuses": video_statuses,
        "videoSecondsMin": min(video_seconds, default=0.0), "videoSecondsMax": max(video_seconds, default=0.0),
        "idleRequests": len(idle), "burstRequests": len(burst), "imagesDoneBeforeFirstVideo": len(during),
        "idleP95Ms": idle_p95, "burstP95Ms": burst_p95, "ratio": burst_p95 / idle_p95 if idle_p95 else 0.0,
        "target": 2.0, "idleStatuses": sorted({r[3] for r in idle}), "burstStatuses": sorted({r[3] for r in burst}),
        "phases": [report.summarize("fair-idle", clients, idle_s, idle),
                   report.summarize("fair-burst", clients, burst_s, burst)],
    }


async def ensure_bundle(client: httpx.AsyncClient, bundle_id: str) -> None:
    """Install an AI bundle on the server when it lacks it (offline bundles install from local packages)."""
    if bundle_id in await installed_bundles(client):
        return
    r = await client.post(f"/api/v1/admin/features/{bundle_id}/install")
    if r.status_code != 202:
        raise SystemExit(f"installing {bundle_id} failed: {r.status_code} {r.text[:200]}")
    async with client.stream("GET", f"/api/v1/jobs/{r.json()['jobId']}/progress", timeout=1800) as stream:
        async for line in stream.aiter_lines():
            if line.startswith("data: ") and json.loads(line[6:])["status"] in ("completed", "failed", "canceled"):
                break
    if bundle_id not in await installed_bundles(client):
        raise SystemExit(f"installing {bundle_id} failed")


async def ai_fairness(base: str, token: str | None, inputs: dict[str, Path], sampler: Sampler,
                      client: httpx.AsyncClient, *, ai_tool: str, ai_jobs: int, image_requests: int,
                      clients: int = 2) -> dict:
    """Image fast tools' p95 while idle, then while `ai_jobs` AI jobs run the whole time (each finished one is
    replaced at once). AI inference must not starve the fast tools: target <= 2x."""
    item = AI_LOADS[ai_tool]
    await ensure_bundle(client, item.bundle)
    images = encoded(AI_FAIRNESS_IMAGES, inputs)
    ai = encoded([item], inputs)
    await sampler.mark(client, "ai-warm-up")  # every tool once: worker processes, the model's first load
    await drive(base, token, images, 1, 2 * len(images), 300, seed=5)
    await drive(base, token, ai, 1, 1, 900)
    await sampler.mark(client, "ai-idle")
    idle, idle_s = await drive(base, token, images, clients, image_requests, 600, seed=7)
    await sampler.mark(client, "ai-burst")
    stop = trio.Event()
    ai_records: list[report.Record] = []
    ai_limiter = trio.CapacityLimiter(ai_jobs)

    async def keep_running(index: int) -> None:
        while not stop.is_set():
            ai_records.extend(await trio_parallel.run_sync(mixed_client, base, token, ai, 1, time.time() + 900,
                                                           index, limiter=ai_limiter))

    running_seen = 0
    async with trio.open_nursery() as nursery:
        for index in range(ai_jobs):
            nursery.start_soon(keep_running, index)
        with trio.move_on_after(120):  # the burst starts when the AI jobs run
            while running_seen < ai_jobs:
                queues = (await sampler.snapshot(client, disk=False)).get("queues", {})
                running_seen = queues.get("vision", {}).get("running", 0)
                await trio.sleep(0.1)
        burst, burst_s = await drive(base, token, images, clients, image_requests, 600, seed=8)
        stop.set()  # the AI jobs in flight finish; none is started after the burst
    idle_p95 = report.percentile_ms([r[2] for r in idle], .95)
    burst_p95 = report.percentile_ms([r[2] for r in burst], .95)
    per_tool = {}
    for name in {r[0] for r in idle}:
        a = report.percentile_ms([r[2] for r in idle if r[0] == name], .95)
        b = report.percentile_ms([r[2] for r in burst if r[0] == name], .95)
        per_tool[name] = {"idleP95Ms": round(a, 1), "burstP95Ms": round(b, 1), "ratio": round(b / a, 2) if a else 0}
    return {
        "aiTool": ai_tool, "aiJobs": ai_jobs, "aiJobsRunningAtStart": running_seen,
        "aiJobsDone": len(ai_records), "aiStatuses": sorted({r[3] for r in ai_records}),
        "aiSecondsMedian": report.percentile_ms([r[2] for r in ai_records], .5) / 1000 if ai_records else 0.0,
        "idleRequests": len(idle), "burstRequests": len(burst),
        "idleP95Ms": idle_p95, "burstP95Ms": burst_p95, "ratio": burst_p95 / idle_p95 if idle_p95 else 0.0,
        "target": 2.0, "perTool": per_tool,
        "idleStatuses": sorted({r[3] for r in idle}), "burstStatuses": sorted({r[3] for r in burst}),
        "phases": [report.summarize("ai-idle", clients, idle_s, idle),
                   report.summarize("ai-burst", clients, burst_s, burst)],
    }


def ai_fairness_text(f: dict) -> str:
    tools = ", ".join(f"{name} {t['idleP95Ms']:.0f} -> {t['burstP95Ms']:.0f} ms" for name, t in sorted(f["perTool"].items()))
    return (f"AI FAIRNESS: image p95 idle {f['idleP95Ms']:.1f} ms, during {f['aiJobs']} {f['aiTool']} jobs "
            f"{f['burstP95Ms']:.1f} ms: ratio {f['ratio']:.2f} (target <= {f['target']:.0f}x; {tools}); "
            f"{f['aiJobsDone']} AI jobs done, median {f['aiSecondsMedian']:.1f} s")


# ---- the run -----------------------------------------------------------------------------------------------
async def installed_bundles(client: httpx.AsyncClient) -> frozenset[str]:
    try:
        listing = (await client.get("/api/v1/features")).json()
    except (httpx.HTTPError, ValueError):
        return frozenset()
    return frozenset(b.get("id") for b in listing.get("bundles", []) if b.get("status") == "installed")


async def run(args: argparse.Namespace, base: str, token: str | None, pid: int | None, data_dir: Path | None,
              inputs: dict[str, Path]) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    out: dict = {"phases": [], "baselines": {}, "fairness": None, "aiFairness": None,
                 "args": {k: v for k, v in vars(args).items()}}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        sampler = Sampler(base, token, pid, data_dir, args.interval_s)
        installed = await installed_bundles(client)
        sweep_items = scenario(args.scenario, office=not args.no_office, installed=installed)
        soak_items = scenario("mixed", office=not args.no_office, installed=installed)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sampler.run, client)
            if args.sweep or args.minutes:
                await sampler.mark(client, "warm-up")
                warm, began = [], time.perf_counter()
                warm_items = list({i.name: i for i in sweep_items + (soak_items if args.minutes else [])}.values())
                for item in warm_items:
                    records, _ = await drive(base, token, encoded([item], inputs), 1, 1, 300)
                    warm += records
                    print(f"warm-up {item.name:<18} {records[0][3] if records else 'no answer'}", flush=True)
                # then once at the highest concurrency to come: the shared pool of worker processes grows to its
                # working size (it keeps idle workers for a while, which is not a leak) before the baseline
                top = max([*args.sweep, args.soak_clients if args.minutes else 1])
                if top > 1:
                    records, _ = await drive(base, token, encoded(warm_items, inputs), top, 2 * top, 300, seed=0)
                    warm += records
                out["phases"].append(report.summarize("warm-up", 1, time.perf_counter() - began, warm))
                await sampler.drain(client)
                baseline = await sampler.settled(client, None)
                out["baseline"] = baseline
                for level in args.sweep:
                    await sampler.mark(client, f"sweep-{level}")
                    records, seconds = await drive(base, token, encoded(sweep_items, inputs), level,
                                                   args.requests * level, args.level_limit_s, seed=level)
                    out["phases"].append(report.summarize(f"sweep-{level}", level, seconds, records))
                    row = out["phases"][-1]["tools"]["ALL"]
                    print(f"sweep c={level:<3} {row['requests']:>5} requests {row['perS']:7.2f}/s  p95 {row['p95Ms']:8.1f} ms"
                          f"  errors {row['errors']}", flush=True)
                await sampler.mark(client, "drain")
                await sampler.drain(client)
                if args.sweep:
                    after = await sampler.settled(client, baseline)
                    out["baselines"]["afterSweep"] = report.back_to_baseline(baseline, after)
                if args.minutes:
                    await sampler.mark(client, "soak")
                    records, seconds = await drive(base, token, encoded(soak_items, inputs), args.soak_clients,
                                                   args.soak_requests, args.minutes * 60, seed=99)
                    out["phases"].append(report.summarize("soak", args.soak_clients, seconds, records))
                    await sampler.mark(client, "drain")
                    await sampler.drain(client)
                    after = await sampler.settled(client, baseline)
                    out["baselines"]["afterSoak"] = report.back_to_baseline(baseline, after)
            if args.fairness:
                out["fairness"] = await fairness(base, token, inputs, sampler, client, video_jobs=args.video_jobs,
                                                 image_requests=args.fairness_requests)
                await sampler.drain(client)
            if args.ai_fairness:
                out["aiFairness"] = await ai_fairness(base, token, inputs, sampler, client, ai_tool=args.ai_tool,
                                                      ai_jobs=args.ai_jobs, image_requests=args.fairness_requests)
                await sampler.drain(client)
            nursery.cancel_scope.cancel()
        await sampler.mark(client, "end")
        out["samples"] = sorted(sampler.samples, key=lambda sample: sample["t"])
    return out


def write_reports(out_dir: Path, result: dict) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    phases = result["phases"] + (result["fairness"]["phases"] if result["fairness"] else [])
    phases += result["aiFairness"]["phases"] if result.get("aiFairness") else []
    v = report.verdict(phases, result["baselines"], result["samples"], result["fairness"])
    if result.get("aiFairness"):
        f = result["aiFairness"]
        v["checks"]["aiFairness"] = {"ratio": round(f["ratio"], 2), "target": f["target"],
                                     "aiJobsRunningAtStart": f["aiJobsRunningAtStart"],
                                     "ok": f["ratio"] <= f["target"] and f["aiJobsRunningAtStart"] >= f["aiJobs"]}
        v["pass"] = all(c["ok"] for c in v["checks"].values())
    result["verdict"] = v
    a = result["args"]
    text = (f"lutra soak {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {os.cpu_count()} cores, "
            f"load average {os.getloadavg()[0]:.1f}; scenario {a['scenario']}, sweep {a['sweep']}, "
            f"{a['requests']} requests per client per level, soak {a['minutes']} min at {a['soak_clients']} "
            f"clients, photo {a['photo_width']} px wide\n\n") + report.table(phases)
    if result["fairness"]:
        text += "\n" + report.fairness_text(result["fairness"]) + "\n"
    if result.get("aiFairness"):
        text += "\n" + ai_fairness_text(result["aiFairness"]) + "\n"
    text += "\n" + report.verdict_text(v) + "\n"
    (out_dir / "report.txt").write_text(text)
    (out_dir / "samples.json").write_text(json.dumps(result, indent=1, default=str))
    report.chart(out_dir / "report.png", phases, result["samples"], result["fairness"])
    print(text, flush=True)
    print(f"reports in {out_dir}: report.txt, samples.json, report.png", flush=True)
    return result


def main_sync(args: argparse.Namespace) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="lutra-soak-"))
    needs_ai = args.scenario == "ai" or args.ai_fairness
    inputs = mixed_inputs(folder / "in", (args.photo_width, args.photo_width * 3 // 4), args.clip_s, 240, ai=needs_ai)
    if args.fairness:
        (folder / "fair").mkdir()
        inputs["fairness.mp4"] = make_clip(folder / "fair", args.fairness_clip_s, args.fairness_clip_height)
    srv = None
    if args.url:
        base, token, pid, data_dir = args.url, args.token, args.pid, args.data_dir
    else:
        env = {"CONCURRENT_JOBS": str(args.concurrent_jobs)} if args.concurrent_jobs else {}
        srv = start_server(folder / "data", env)
        base, token, pid, data_dir = srv.base_url, srv.token, srv.proc.pid, folder / "data"
    try:
        result = trio.run(run, args, base, token, pid, data_dir, inputs)
    finally:
        if srv is not None:
            srv.stop()
        shutil.rmtree(folder, ignore_errors=True)  # the inputs, and the started server's DATA_DIR
    return write_reports(Path(args.out), result)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server on 127.0.0.1 (default: start one)")
    p.add_argument("--token", default=os.environ.get("LUTRA_TOKEN"), help="an admin session token or si_ key")
    p.add_argument("--pid", type=int, help="with --url: the server's pid (RSS and descriptors)")
    p.add_argument("--data-dir", type=Path, help="with --url: the server's DATA_DIR (disk use)")
    p.add_argument("--out", default="load/results/soak", help="folder for report.txt, samples.json, report.png")
    p.add_argument("--scenario", default="mixed", help=f"the sweep's scenario: mixed, {', '.join(FAMILIES)}")
    p.add_argument("--sweep", type=lambda s: [int(x) for x in s.split(",") if x], default=None,
                   help="client counts (default 1,2,4,8,16; none with --fairness alone)")
    p.add_argument("--requests", type=int, default=20, help="requests per client at each sweep level")
    p.add_argument("--level-limit-s", type=float, default=180, help="time cap per sweep level")
    p.add_argument("--minutes", type=float, default=None, help="soak length (default 20; 0: no soak)")
    p.add_argument("--soak-clients", type=int, default=4)
    p.add_argument("--soak-requests", type=int, default=100_000, help="request cap of the soak")
    p.add_argument("--no-office", action="store_true", help="leave the office conversion out")
    p.add_argument("--fairness", action="store_true", help="run the fairness check (alone unless --sweep/--minutes)")
    p.add_argument("--video-jobs", type=int, default=4, help="fairness: compress-video jobs in the burst")
    p.add_argument("--fairness-requests", type=int, default=40, help="fairness: image requests per phase")
    p.add_argument("--fairness-clip-s", type=int, default=25)
    p.add_argument("--fairness-clip-height", type=int, default=720)
    p.add_argument("--ai-fairness", action="store_true",
                   help="run the AI fairness check: image fast tools idle vs while AI jobs run (alone unless "
                        "--sweep/--minutes); installs the AI tool's bundle when the server lacks it")
    p.add_argument("--ai-tool", choices=sorted(AI_LOADS), default="remove-background", help="AI fairness: the AI tool")
    p.add_argument("--ai-jobs", type=int, default=2, help="AI fairness: AI jobs kept running during the burst")
    p.add_argument("--photo-width", type=int, default=2400, help="the photo the image tools get (4:3)")
    p.add_argument("--clip-s", type=int, default=3, help="the clip the mixed media tools get")
    p.add_argument("--concurrent-jobs", type=int, default=0, help="CONCURRENT_JOBS of the started server")
    p.add_argument("--interval-s", type=float, default=1.0, help="sampling interval")
    args = p.parse_args(argv)
    if args.url and urlparse(args.url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("the load harness only targets 127.0.0.1")
    alone = (args.fairness or args.ai_fairness) and args.sweep is None and args.minutes is None
    args.sweep = [] if alone else (args.sweep if args.sweep is not None else [1, 2, 4, 8, 16])
    args.minutes = 0 if alone else (args.minutes if args.minutes is not None else 20)
    return args


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    print(f"lutra soak: {os.cpu_count()} cores, python {sys.version.split()[0]}", flush=True)
    return main_sync(args)


if __name__ == "__main__":
    main()
