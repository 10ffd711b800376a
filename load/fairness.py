"""The fairness checks of load.soak: image requests' p95 while idle, then during a burst of long video
jobs (`--fairness`) or while AI jobs run (`--ai-fairness`); a fast tool must not starve."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import trio
import trio_parallel

from load import report
from load.harness.clients import mixed_client
from load.harness.sampling import Sampler
from load.scenarios import Item, drive, encoded, installed_bundles

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
