"""Document overhead: merge-pdf and word-to-pdf through the API against the bare programs.

    python -m load.documents                 # 20 ten-page PDFs to merge, a one-page .docx, 3 runs each
    python -m load.documents --runs 5

Prints per scenario the bare wall time, the API wall time (upload + queue + work + SSE until the terminal
frame, download excluded) and their ratio. word-to-pdf is compared twice: with a LibreOffice started for
the one file (cold: a fresh profile, what a per-request `soffice --convert-to` costs) and with a reused
profile (warm disk cache, still a process start); the API uses the actor's warm listener. Timings from
one run on a shared machine are indicative; the script asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from load.harness.bare import run_program
from load.harness.inputs import document_inputs
from load.harness.server import start_server


def bare_merge(pdfs: list[Path], out: Path) -> float:
    return run_program(["qpdf", "--empty", "--pages", *map(str, pdfs), "--", str(out)], 300)


def bare_soffice(docx: Path, outdir: Path, profile: Path) -> float:
    return run_program(["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                        "--convert-to", "pdf", "--outdir", str(outdir), str(docx)], 300, capture=True)


def api(client: httpx.Client, tool: str, paths: list[Path], field: str) -> float:
    started = time.perf_counter()
    files = [(field, (p.name, p.read_bytes())) for p in paths]
    r = client.post(f"/api/v1/tools/pdf/{tool}", files=files, data={"settings": "{}"})
    if r.status_code == 200:
        return time.perf_counter() - started
    r.raise_for_status()
    with client.stream("GET", f"/api/v1/jobs/{r.json()['jobId']}/progress", timeout=600) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                frame = json.loads(line[6:])
                if frame["status"] in ("completed", "failed", "canceled"):
                    if frame["status"] != "completed":
                        raise RuntimeError(frame)
                    break
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> list[dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=20)
    p.add_argument("--pages", type=int, default=10)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="lutra-docs-bench-"))
    pdfs, docx = document_inputs(folder, args.files, args.pages)
    srv = start_server(folder / "data")
    rows = []
    try:
        with srv.client(timeout=600) as client:
            # warm: the worker's imports and the office listener's first PDF export
            api(client, "merge-pdf", pdfs[:2], "files")
            for _ in range(60):
                try:
                    api(client, "word-to-pdf", [docx], "file")
                    break
                except RuntimeError:
                    time.sleep(1)
            merge_bare = [bare_merge(pdfs, folder / f"bare-merge-{i}.pdf") for i in range(args.runs)]
            merge_api = [api(client, "merge-pdf", pdfs, "files") for _ in range(args.runs)]
            cold = []
            for i in range(args.runs):
                profile = folder / f"profile-cold-{i}"
                cold.append(bare_soffice(docx, folder / "cold", profile))
                shutil.rmtree(profile, ignore_errors=True)
            reused = folder / "profile-reused"
            bare_soffice(docx, folder / "reused", reused)
            warm_profile = [bare_soffice(docx, folder / "reused", reused) for _ in range(args.runs)]
            word_api = [api(client, "word-to-pdf", [docx], "file") for _ in range(args.runs)]
    finally:
        srv.stop()
    merge = {"scenario": f"merge-pdf {args.files}x{args.pages} pages", "bareS": statistics.median(merge_bare),
             "apiS": statistics.median(merge_api)}
    merge["ratio"] = merge["apiS"] / merge["bareS"]
    word = {"scenario": "word-to-pdf one page", "apiS": statistics.median(word_api),
            "bareColdS": statistics.median(cold), "bareReusedProfileS": statistics.median(warm_profile)}
    word["ratioVsCold"] = word["apiS"] / word["bareColdS"]
    word["ratioVsReusedProfile"] = word["apiS"] / word["bareReusedProfileS"]
    rows = [merge, word]
    print(f"{merge['scenario']:<28} bare qpdf {merge['bareS']:6.3f} s  api {merge['apiS']:6.3f} s  "
          f"ratio {merge['ratio']:.2f}")
    print(f"{word['scenario']:<28} soffice cold {word['bareColdS']:6.3f} s  soffice reused profile "
          f"{word['bareReusedProfileS']:6.3f} s  api (warm listener) {word['apiS']:6.3f} s  "
          f"ratio vs cold {word['ratioVsCold']:.2f}")
    shutil.rmtree(folder, ignore_errors=True)
    return rows


if __name__ == "__main__":
    main()
