"""Media overhead: convert-video and trim-video through the API against the bare ffmpeg command with the
same arguments, the fixed per-job cost in milliseconds, and how often progress frames arrive during a long
encode.

    python -m load.media                                  # 30 s 720p clip, every scenario
    python -m load.media --scenario trim-fast --fast-runs 15   # the fast (stream-copy) trim only, ~10 s
    python -m load.media --seconds 10 --runs 3

Per scenario it prints medians (and minimums, the least disturbed figure on a shared machine) of:
- bare: the ffmpeg command the tool runs, with the same arguments and priority (nice), reading the clip
  from disk and writing its result to disk, as the server's ffmpeg does;
- bare+probe: that plus the tools' ffprobe of the clip (timed on its own), i.e. what a script that validates
  its input first would run;
- api: upload over loopback + the server's checks (settings, ffprobe) + queue + ffmpeg + the job's result,
  until the 200 (fast tools) or the terminal SSE frame (long tools);
- ratio = api / bare, and fixed = api - bare in ms (the per-job cost that does not grow with the work);
- download: fetching the result afterwards (not in api).
For the fast trim it also splits the fixed cost from the client side: `upload` is a request refused on its
settings once the body is stored (upload + HTTP), `upload+probe` one refused by ffprobe (start past the end).
For jobs that stream progress: frames received, the largest gap between two frames, and whether a frame
came at least once a second. Timings from a shared machine are indicative; the script asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import trio

from actors.media import convert_video, ffprobe, trim_video
from actors.processes import lowered
from load.harness.bare import run_program
from load.harness.inputs import make_clip
from load.harness.server import start_server

GLOBAL = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]

# name -> (tool, section, settings)
SCENARIOS = {
    "convert": ("convert-video", "video", {"format": "mp4", "quality": "balanced"}),
    "trim-fast": ("trim-video", "video", {"startS": 5, "endS": 25}),
    "trim-precise": ("trim-video", "video", {"startS": 5, "endS": 25, "precise": True}),
}


def bare_args(tool: str, settings: dict, clip: Path, out: Path) -> list[str]:
    """The arguments the tool itself builds for this clip (same builders as the tool)."""
    info = trio.run(ffprobe.probe, clip)
    if tool == "convert-video":
        s = convert_video.ConvertVideoSettings.model_validate(settings)
        return convert_video.build_args(info, s, clip, out)
    s = trim_video.TrimVideoSettings.model_validate(settings)
    if not s.precise:  # what the fast path runs: the end as given, no probe needed
        return trim_video.fast_args("mp4", s.start_s, s.end_s, clip, out)
    return trim_video.build_args(info, "mp4", s.start_s, s.end_s or info.duration, s.precise, clip, out)


def run_bare(args: list[str]) -> float:
    """ffmpeg with `args`, at the priority the server gives its ffmpeg (`lowered`: the same nice, so that on a
    busy machine neither side is favoured); wall seconds."""
    return run_program(lowered(["ffmpeg", *GLOBAL, *args]), 1800)


def run_probe(clip: Path) -> float:
    """The tools' ffprobe of `clip`; wall seconds."""
    return run_program([ffprobe.FFPROBE, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                        f"file:{clip}"], 60, capture=True)


def post(client: httpx.Client, section: str, tool: str, settings: dict, clip: Path) -> httpx.Response:
    with open(clip, "rb") as fh:
        return client.post(f"/api/v1/tools/{section}/{tool}", files={"file": (clip.name, fh)},
                           data={"settings": json.dumps(settings)})


def run_api(client: httpx.Client, section: str, tool: str, settings: dict, clip: Path) -> dict:
    """Wall time until the result is ready, its download URL, and the progress frames' timing."""
    started = time.perf_counter()
    r = post(client, section, tool, settings, clip)
    if r.status_code == 200:
        return {"s": time.perf_counter() - started, "url": r.json()["downloadUrl"], "stamps": []}
    r.raise_for_status()
    job_id = r.json()["jobId"]
    stamps, url = [], None
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", timeout=1800) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                frame = json.loads(line[6:])
                stamps.append(time.perf_counter())
                if frame["status"] in ("completed", "failed", "canceled"):
                    if frame["status"] != "completed":
                        raise RuntimeError(frame)
                    url = frame["result"]["downloadUrl"]
                    break
    return {"s": time.perf_counter() - started, "url": url, "stamps": stamps}


def download(client: httpx.Client, url: str) -> float:
    started = time.perf_counter()
    with client.stream("GET", url) as response:
        response.raise_for_status()
        for _ in response.iter_bytes(1 << 20):
            pass
    return time.perf_counter() - started


def refusal(client: httpx.Client, section: str, tool: str, settings: dict, clip: Path) -> float:
    """Wall time of a request the server refuses with a 400 (the clip is uploaded all the same)."""
    started = time.perf_counter()
    r = post(client, section, tool, settings, clip)
    elapsed = time.perf_counter() - started
    if r.status_code != 400:
        raise RuntimeError(f"expected a 400, got {r.status_code}: {r.text[:200]}")
    return elapsed


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms (min {min(values) * 1000:6.1f})"


def measure(client: httpx.Client, folder: Path, clip: Path, name: str, runs: int) -> dict:
    tool, section, settings = SCENARIOS[name]
    out = folder / f"bare-{name}.mp4"
    argv = bare_args(tool, settings, clip, out)
    bare, probed, api, downloads, frames, gaps = [], [], [], [], [], []
    for i in range(runs):
        order = ("bare", "probed", "api") if i % 2 == 0 else ("api", "bare", "probed")  # spread the drift
        for which in order:
            if which == "bare":
                bare.append(run_bare(argv))
            elif which == "probed":
                probed.append(bare[-1] + run_probe(clip))  # "bare" always ran just before
            else:
                got = run_api(client, section, tool, settings, clip)
                api.append(got["s"])
                downloads.append(download(client, got["url"]))
                stamps = got["stamps"]
                if stamps:
                    frames.append(len(stamps))
                    gaps.append(max((b - a for a, b in zip(stamps, stamps[1:], strict=False)), default=0.0))
    row = {"scenario": name, "tool": tool, "settings": settings, "runs": runs,
           "bareS": statistics.median(bare), "bareMinS": min(bare), "bareProbedS": statistics.median(probed),
           "apiS": statistics.median(api), "apiMinS": min(api), "downloadS": statistics.median(downloads)}
    row["ratio"] = row["apiS"] / row["bareS"]
    row["ratioVsProbed"] = row["apiS"] / row["bareProbedS"]
    row["fixedMs"] = (row["apiS"] - row["bareS"]) * 1000
    row["fixedMinMs"] = (row["apiMinS"] - row["bareMinS"]) * 1000
    print(f"{name:<13} {json.dumps(settings)}", flush=True)
    print(f"  bare       {_ms(bare)}\n  bare+probe {_ms(probed)}\n  api        {_ms(api)}\n"
          f"  ratio {row['ratio']:.3f} (vs bare+probe {row['ratioVsProbed']:.3f})   fixed {row['fixedMs']:.1f} ms "
          f"(from minimums {row['fixedMinMs']:.1f} ms)\n  download   {_ms(downloads)}", flush=True)
    if gaps:
        row["progressFrames"] = min(frames)
        row["maxProgressGapS"] = max(gaps)
        row["progressEverySecond"] = max(gaps) <= 1.0
        print(f"  progress   {min(frames)} frames or more per job, largest gap {max(gaps):.2f} s -> "
              f"{'at least one frame a second' if max(gaps) <= 1.0 else 'GAPS OVER ONE SECOND'}", flush=True)
    if name == "trim-fast":
        upload = [refusal(client, section, tool, {"startS": 5, "endS": 4}, clip) for _ in range(runs)]
        probe = [refusal(client, section, tool, {"startS": 10_000}, clip) for _ in range(runs)]
        row["uploadS"], row["uploadProbeS"] = statistics.median(upload), statistics.median(probe)
        print(f"  fixed cost from the client side: upload+HTTP {_ms(upload)}, upload+probe {_ms(probe)} "
              f"({clip.stat().st_size / 1048576:.1f} MB clip)", flush=True)
    return row


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--runs", type=int, default=1, help="runs of the encoding scenarios")
    p.add_argument("--fast-runs", type=int, default=9, help="runs of the fast trim (a few hundred ms each)")
    p.add_argument("--scenario", default="all", help=f"comma-separated, from {', '.join(SCENARIOS)}; or all")
    args = p.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else args.scenario.split(",")
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"unknown scenario(s): {', '.join(unknown)}")
    folder = Path(tempfile.mkdtemp(prefix="lutra-media-bench-"))
    clip = make_clip(folder, args.seconds, args.height)
    srv = start_server(folder / "data")
    rows = []
    try:
        with srv.client(timeout=1800) as client:
            run_api(client, "video", "trim-video", {"startS": 0, "endS": 1}, clip)  # warm the server
            for name in names:
                rows.append(measure(client, folder, clip, name, args.fast_runs if name == "trim-fast" else args.runs))
    finally:
        srv.stop()
    return rows


if __name__ == "__main__":
    main()
