"""The VisionActor: owns the loaded models (onnxruntime sessions, OCR engines, cascades, ncnn nets).

Model tools run in a thread of the server process (`@tool(runs=Runs.THREAD)`), so each model loads
once per actor and is reused by every later job while the event loop never blocks (onnxruntime, ncnn
and OpenCV release the GIL); those threads run at a low CPU priority (actors.threads), so
inference never starves the fast tools. Model-free, Python-heavy tools (seam carving, analysis) run in worker
processes like the image tools. A tool whose bundle is missing is refused before it is queued (the
runtime checks `@tool(requires=...)`): 501 FEATURE_NOT_INSTALLED, naming the bundle and its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actors import models
from actors.runtime import Actor


class VisionActor(Actor):
    name = "vision"

    def health(self) -> dict[str, Any]:
        return models.runtime_info()


def create(capacity: int, queue_size: int, options: dict) -> VisionActor:
    data_dir = Path(options.get("data_dir") or "./data")
    models.configure(data_dir / "models")
    models.set_memory_budget(float(options.get("model_memory_mb") or 0))
    return VisionActor(capacity, queue_size)
