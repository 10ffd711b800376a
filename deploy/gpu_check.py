"""The body of deploy/gpu-check: time each AI tool on CPU and on CUDA in this process and print speedups."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# tool id, settings, input kind
CASES = [
    ("remove-background", {}, "portrait"),
    ("blur-background", {"intensity": 50}, "portrait"),
    ("background-replace", {"color": "#00ff00"}, "portrait"),
    ("ocr", {"quality": "balanced"}, "text"),
    ("ocr-pdf", {"quality": "balanced"}, "pdf"),
    ("blur-faces", {}, "portrait"),
    ("smart-crop", {"mode": "face", "width": 400, "height": 500}, "portrait"),
    ("red-eye-removal", {}, "portrait"),
    ("noise-removal", {"tier": "balanced"}, "portrait"),
    ("image-enhancement", {}, "portrait"),
    ("content-aware-resize", {"width": 480}, "small"),
    ("upscale", {"scale": 2}, "small"),
    ("passport-photo", {"country": "us"}, "portrait"),
    ("transcribe-audio", {"language": "en"}, "speech"),  # Whisper tiny.en
    ("transcribe-audio", {"language": "auto"}, "speech"),  # Whisper base detects, tiny.en transcribes
    ("transcribe-audio", {"language": "de"}, "speech"),  # Whisper base end to end
]


def make_inputs(folder: Path) -> dict[str, Path]:
    import cv2
    from PIL import Image, ImageDraw, ImageFont
    from skimage import data

    portrait = folder / "portrait.png"
    Image.fromarray(cv2.resize(data.astronaut(), (1024, 1024))).save(portrait)
    small = folder / "small.png"
    Image.fromarray(cv2.resize(data.astronaut(), (256, 256))).save(small)
    text = folder / "text.png"
    img = Image.new("RGB", (1600, 400), "white")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    for i in range(4):
        ImageDraw.Draw(img).text((40, 40 + 80 * i), "The quick brown fox jumps over the lazy dog", fill="black",
                                 font=font)
    img.save(text)
    pdf = folder / "scan.pdf"
    img.save(pdf, resolution=150)
    speech = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(speech), "this is a test of the speech recognition " * 4],
                   check=True, timeout=60)
    return {"portrait": portrait, "small": small, "text": text, "pdf": pdf, "speech": speech}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=600, help="stop starting new tools after this many seconds")
    parser.add_argument("--no-extra", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()

    import onnxruntime as ort

    from actors import catalog
    from actors.vision import _models
    from tests.helpers import run_tool

    print("onnxruntime", ort.__version__, "providers:", ort.get_available_providers(), flush=True)
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    try:
        import ctranslate2

        print("ctranslate2 CUDA devices:", ctranslate2.get_cuda_device_count())
    except Exception as err:  # noqa: BLE001
        print("ctranslate2:", type(err).__name__)
    catalog.load()
    with tempfile.TemporaryDirectory(prefix="lutra-gpu-check-") as tmp:
        work = Path(tmp)
        root = _models.configure(work / "models")
        for bundle in ("ocr", "face-detection", "background-removal", "upscale-enhance", "transcription",
                       "transcription-multilingual"):
            t = time.perf_counter()
            try:
                _models.install(bundle, root)
                print(f"installed {bundle} in {time.perf_counter() - t:.1f} s", flush=True)
            except _models.BundleError as err:
                print(f"bundle {bundle}: {err.message}", flush=True)
        inputs = make_inputs(work)
        rows = []
        for tool_id, settings, kind in CASES:
            if time.monotonic() - started > args.budget:
                print("budget spent; stopping", flush=True)
                break
            times = {}
            for device in ("cpu", "cuda") if cuda else ("cpu",):
                _models.set_device(device)
                try:
                    run_tool(tool_id, inputs[kind], settings, work / device)  # warm-up (loads the model)
                    t = time.perf_counter()
                    run_tool(tool_id, inputs[kind], settings, work / device)
                    times[device] = time.perf_counter() - t
                except Exception as err:  # noqa: BLE001
                    times[device] = None
                    print(f"{tool_id} on {device}: {type(err).__name__}: {str(err)[:200]}", flush=True)
            rows.append((tool_id, times))
            cpu, gpu = times.get("cpu"), times.get("cuda")
            speed = f"{cpu / gpu:5.2f}x" if cpu and gpu else "  n/a"
            print(f"{tool_id:<22} cpu {cpu if cpu is None else round(cpu, 3)!s:>8} s   "
                  f"cuda {gpu if gpu is None else round(gpu, 3)!s:>8} s   speedup {speed}", flush=True)
        _models.set_device("auto")
    if not cuda:
        print("no CUDA provider: CPU timings only (install onnxruntime-gpu with LUTRA_GPU=1 ./run setup)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
