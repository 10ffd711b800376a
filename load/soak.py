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
from pathlib import Path
from urllib.parse import urlparse

import httpx
import trio

from load import report
from load.fairness import AI_LOADS, ai_fairness, ai_fairness_text, fairness
from load.harness.inputs import make_clip, mixed_inputs
from load.harness.sampling import Sampler
from load.harness.server import start_server
from load.scenarios import FAMILIES, drive, encoded, installed_bundles, scenario

# ---- the run -----------------------------------------------------------------------------------------------


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
