"""The same operations as the scenarios, done with the bare library in worker processes (no HTTP)."""

from __future__ import annotations

import time


def run_program(argv: list[str], limit_s: float, *, capture: bool = False) -> float:
    """Run a command to its end and return its wall seconds (raising if it fails). Not
    `subprocess.run(timeout=...)`: with a timeout, CPython waits for the child by polling with sleeps of up
    to 50 ms, which added ~40 ms to a 70 ms ffmpeg run and flattered every ratio against it. Here the wait
    blocks on the child and a timer kills it past `limit_s`."""
    import subprocess
    import threading

    out = subprocess.PIPE if capture else None
    started = time.perf_counter()
    with subprocess.Popen(argv, stdout=out, stderr=out) as proc:
        timer = threading.Timer(limit_s, proc.kill)
        timer.start()
        try:
            proc.communicate()
        finally:
            timer.cancel()
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv)
    return elapsed


def _resize_like_the_tool(path: str, width: int):
    """The pyvips operations the resize tool runs for a width-only resize, without HTTP, jobs or checks:
    shrink-on-load at the largest JPEG DCT factor that still leaves at least the target size (as sharp's
    default fastShrinkOnLoad does), EXIF orientation, then one exact resize. Not `thumbnail`: for a 5x
    reduction it decodes at 1/2 instead of 1/4 and cost 11 % more than the tool's own pipeline, which
    flattered the HTTP ratio by as much."""
    import pyvips

    pyvips.concurrency_set(1)
    header = pyvips.Image.new_from_file(path, access="sequential", fail_on="warning")
    height = max(1, round(header.height * width / header.width))
    options = {}
    if header.get("vips-loader").startswith("jpeg"):
        options["shrink"] = next((f for f in (8, 4, 2) if header.width // f >= width and header.height // f >= height), 1)
    image = pyvips.Image.new_from_file(path, access="sequential", fail_on="warning", **options).autorot()
    return image.resize(width / image.width, vscale=height / image.height)


def resize_jpeg(path: str, width: int) -> int:
    image = _resize_like_the_tool(path, width)
    return len(image.jpegsave_buffer(Q=85, keep="icc", optimize_coding=True, subsample_mode="auto"))


def resize_png(path: str, width: int) -> int:
    return len(_resize_like_the_tool(path, width).pngsave_buffer(keep="icc", compression=6))


def compress_jpeg(path: str, quality: int) -> int:
    """The compress tool's quality mode: rows streamed from the decoder to the encoder (EXIF orientation
    applied; the bench's photo has none), the same encoder options."""
    import pyvips

    pyvips.concurrency_set(1)
    image = pyvips.Image.new_from_file(path, access="sequential", fail_on="warning").autorot()
    return len(image.jpegsave_buffer(Q=quality, keep="icc", optimize_coding=True, subsample_mode="auto"))


def warm() -> float:
    import pyvips  # noqa: F401

    return time.perf_counter()


def run_tool(tool_id: str, inputs: list[str], settings: dict, models_dir: str | None = None) -> int:
    """The tool's own code, in this (worker) process, without HTTP: the in-process baseline."""
    import shutil
    import tempfile
    from pathlib import Path

    from actors import catalog, workers
    from protocols.tools import Limits, ToolCall

    if models_dir:
        from actors import models

        models.configure(models_dir)
    spec = catalog.load()[tool_id]
    out = Path(tempfile.mkdtemp(prefix="lutra-bare-"))
    try:
        paths = [Path(p) for p in inputs]
        call = ToolCall(inputs=paths, names=[p.name for p in paths], settings=spec.settings.model_validate(settings),
                        workdir=out, limits=Limits(max_megapixels=250), roles=["file"] * len(paths))
        return workers.run_here(spec.run, call).outputs[0].stat().st_size
    finally:
        shutil.rmtree(out, ignore_errors=True)


# ---- AI baselines: the library inference call with the model already loaded ---------------------
# The bare side of the ocr and remove-background scenarios is what a minimal script using the same
# libraries would do per image, with the model loaded once per process: decode the file (OpenCV), run
# the model through the very session / engine object the tool uses (`models.onnx_session`,
# `ocr_engines.ppocr_engine`: same files, providers and session options), including the pre/post-processing
# the model itself requires (ISNet: resize to 1024² and normalise, mask back to the image size), and
# encode the result (an RGBA PNG; the recognised text). Everything our tool adds around that — HTTP,
# upload, job queue, SSE, the thread limiter, its own decode/encode, the /effects cache — is what the
# API-vs-bare ratio measures. Each call returns (seconds for the whole call, seconds inside the model,
# model loads this process did before the timed part), timed here in the worker, so IPC is not counted.

def _configure(models_dir: str | None) -> None:

    from actors import models

    if models_dir:
        models.configure(models_dir)


def _loads() -> int:
    from actors import models

    return sum(models.LOAD_COUNTS.values())


_warmed: set[str] = set()


def ocr_model(path: str, models_dir: str | None = None) -> tuple[float, float, int]:
    """PP-OCRv6 (rapidocr) on the image, with the same call arguments as the ocr tool's balanced tier."""
    import cv2

    from actors.vision import ocr_engines

    _configure(models_dir)
    before = _loads()
    engine = ocr_engines.ppocr_engine()  # loads on the first call in this process, then cached

    def call() -> str:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        t1 = time.perf_counter()
        result = engine(bgr, return_word_box=True, use_cls=False, text_score=0.5)
        timing.append(time.perf_counter() - t1)
        return "\n".join(" ".join(str(w[0]) for w in line) for line in (result.word_results or ()))

    return _timed("ocr", call, before)


def segment_model(path: str, models_dir: str | None = None) -> tuple[float, float, int]:
    """ISNet (onnxruntime) on the image, the cut-out encoded as an RGBA PNG in memory."""
    import cv2
    import numpy as np

    from actors import models
    from actors.vision import segmentation

    _configure(models_dir)
    before = _loads()
    session = models.onnx_session(segmentation.BUNDLE, "isnet.onnx")

    def call() -> bytes:
        bgr = cv2.imread(path, cv2.IMREAD_COLOR)
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        h, w = rgb.shape[:2]
        x = cv2.resize(rgb, (segmentation.SIZE, segmentation.SIZE), interpolation=cv2.INTER_LINEAR).astype(np.float32)
        x = np.ascontiguousarray((x / 255 - 0.5).transpose(2, 0, 1)[None])
        t1 = time.perf_counter()
        out = session.run(["output"], {session.get_inputs()[0].name: x})[0][0, 0]
        timing.append(time.perf_counter() - t1)
        mask = cv2.resize(np.clip(out, 0, 1), (w, h), interpolation=cv2.INTER_LINEAR)
        ok, png = cv2.imencode(".png", np.dstack([bgr, (mask * 255).astype(np.uint8)]))
        if not ok:
            raise RuntimeError("PNG encoding failed")
        return png.tobytes()

    return _timed("segment", call, before)


timing: list[float] = []


def _timed(name: str, call, loads_before: int) -> tuple[float, float, int]:
    """(whole call s, model s, model loads): the first call in a process loads the model and runs once
    untimed (sessions that open lazily, allocator warm-up), so every timed call has its model loaded."""
    if name not in _warmed:
        call()
        _warmed.add(name)
    loads = _loads() - loads_before
    timing.clear()
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0, timing[-1], loads
