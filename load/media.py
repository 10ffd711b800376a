"""Media overhead: convert-video and trim-video through the API against the bare ffmpeg command with the
same arguments, plus how often progress frames arrive during a long encode.

    python -m load.media                         # 30 s 720p clip, one run each
    python -m load.media --seconds 10 --runs 3

Prints per scenario: bare ffmpeg wall time, API wall time (upload + queue + ffmpeg + SSE until the terminal
frame, download excluded), their ratio, and for jobs that stream progress the largest gap between frames.
Timings from one run on a shared machine are indicative; the script asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import trio

from actors.media import _ffmpeg as ff
from actors.media import convert_video, trim_video
from load.bench import start_server

GLOBAL = ["-hide_banner", "-nostdin", "-y", "-loglevel", "error"]


def make_clip(folder: Path, seconds: int, height: int) -> Path:
    width = height * 16 // 9
    path = folder / f"clip{height}p.mp4"
    subprocess.run(["ffmpeg", *GLOBAL, "-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r=30:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=f=440:d={seconds}", "-c:v", "libx264", "-preset", "veryfast",
                    "-g", "60", "-pix_fmt", "yuv420p", "-c:a", "aac", "-movflags", "+faststart", str(path)],
                   check=True, timeout=600)
    return path


def bare_args(tool: str, settings: dict, clip: Path, out: Path) -> list[str]:
    info = trio.run(ff.probe, clip)
    if tool == "convert-video":
        s = convert_video.ConvertVideoSettings.model_validate(settings)
        return convert_video.build_args(info, s, clip, out)
    s = trim_video.TrimVideoSettings.model_validate(settings)
    return trim_video.build_args(info, "mp4", s.start_s, s.end_s or info.duration, s.precise, clip, out)


def run_bare(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(["ffmpeg", *GLOBAL, *args], check=True, timeout=1800)
    return time.perf_counter() - started


def run_api(client: httpx.Client, section: str, tool: str, settings: dict, clip: Path) -> tuple[float, float | None]:
    """Wall time until the result is ready, and the largest gap between progress frames (None if not streamed)."""
    started = time.perf_counter()
    with open(clip, "rb") as fh:
        r = client.post(f"/api/v1/tools/{section}/{tool}", files={"file": (clip.name, fh)},
                        data={"settings": json.dumps(settings)})
    if r.status_code == 200:
        return time.perf_counter() - started, None
    r.raise_for_status()
    job_id = r.json()["jobId"]
    stamps = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", timeout=1800) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                frame = json.loads(line[6:])
                stamps.append(time.perf_counter())
                if frame["status"] in ("completed", "failed", "canceled"):
                    if frame["status"] != "completed":
                        raise RuntimeError(frame)
                    break
    elapsed = time.perf_counter() - started
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    return elapsed, max(gaps) if gaps else None


SCENARIOS = [
    ("convert-video", "video", {"format": "mp4", "quality": "balanced"}),
    ("trim-video", "video", {"startS": 5, "endS": 25}),
    ("trim-video", "video", {"startS": 5, "endS": 25, "precise": True}),
]


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=int, default=30)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--runs", type=int, default=1)
    args = p.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lutra-media-bench-"))
    clip = make_clip(folder, args.seconds, args.height)
    srv = start_server(folder / "data")
    rows = []
    try:
        with srv.client(timeout=1800) as client:
            run_api(client, "video", "trim-video", {"startS": 0, "endS": 1}, clip)  # warm the server
            for tool, section, settings in SCENARIOS:
                bare, api, gaps = [], [], []
                for i in range(args.runs):
                    out = folder / f"bare-{tool}-{i}.mp4"
                    argv = bare_args(tool, settings, clip, out)
                    for which in ("bare", "api") if i % 2 == 0 else ("api", "bare"):  # alternate to spread drift
                        if which == "bare":
                            bare.append(run_bare(argv))
                            continue
                        elapsed, gap = run_api(client, section, tool, settings, clip)
                        api.append(elapsed)
                        if gap is not None:
                            gaps.append(gap)
                row = {"tool": tool, "settings": settings, "bareS": statistics.median(bare),
                       "apiS": statistics.median(api), "maxProgressGapS": max(gaps) if gaps else None}
                row["ratio"] = row["apiS"] / row["bareS"]
                rows.append(row)
                gap_text = f"  max progress gap {row['maxProgressGapS']:.2f} s" if gaps else ""
                print(f"{tool:<14} {json.dumps(settings):<48} bare {row['bareS']:6.2f} s  api {row['apiS']:6.2f} s  "
                      f"ratio {row['ratio']:.3f}{gap_text}", flush=True)
    finally:
        srv.stop()
    return rows


if __name__ == "__main__":
    main()
