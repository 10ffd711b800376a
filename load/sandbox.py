"""Sandbox overhead per program start: each command bare and sandboxed (actors/sandbox/: prlimit +
bubblewrap), interleaved so that both see the same machine, inside a job scope like a real job's.

    python -m load.sandbox              # 40 pairs per command
    python -m load.sandbox --runs 100

Prints per command the median and minimum wall time bare and sandboxed and the difference (the cost of
one sandboxed start). Commands: /usr/bin/true (the pure cost), the ffprobe and the stream-copy ffmpeg
trim the media tools run, and the qpdf merge of merge-pdf. The end-to-end view is the usual harness run
twice, with SANDBOX=true and SANDBOX=false (load.media --scenario trim-fast, load.documents,
load.bench --scenario resize-small). Timings from a shared machine are indicative; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from actors import sandbox


def make_inputs(folder: Path) -> dict[str, list[str]]:
    clip, pdf = folder / "clip.mp4", folder / "doc.pdf"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=10", "-f", "lavfi",
                    "-i", "sine=d=10", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest", str(clip)],
                   check=True)
    subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", "-c", "showpage"],
                   check=True)
    return {
        "true": ["/usr/bin/true"],
        "ffprobe": ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", f"file:{clip}"],
        "trim (stream copy)": ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-ss", "2", "-to", "4",
                               "-i", f"file:{clip}", "-c", "copy", f"file:{folder / 'out.mp4'}"],
        "merge-pdf (qpdf)": ["qpdf", "--empty", "--pages", str(pdf), str(pdf), "--", str(folder / "merged.pdf")],
    }


def timed(argv: list[str], env: dict[str, str] | None) -> float:
    began = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=40)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="lutra-sandbox-bench-") as tmp:
        folder = Path(tmp)
        commands = make_inputs(folder)
        print(f"{'command':22} {'bare ms (med/min)':>18} {'sandboxed ms':>14} {'cost ms (med/min)':>18}")
        with sandbox.job_scope(folder, []):
            for name, argv in commands.items():
                launch = sandbox.prepare(argv)
                bare, boxed = [], []
                for _ in range(3):  # warm the page cache
                    timed(argv, launch.env), timed(launch.argv, launch.env)
                for _ in range(args.runs):
                    bare.append(timed(argv, launch.env))
                    boxed.append(timed(launch.argv, launch.env))
                diffs = [b - a for a, b in zip(bare, boxed, strict=True)]
                print(f"{name:22} {statistics.median(bare) * 1000:8.1f}/{min(bare) * 1000:<8.1f}"
                      f" {statistics.median(boxed) * 1000:7.1f}/{min(boxed) * 1000:<6.1f}"
                      f" {statistics.median(diffs) * 1000:8.1f}/{(min(boxed) - min(bare)) * 1000:<8.1f}")


if __name__ == "__main__":
    main()
