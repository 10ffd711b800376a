"""The VisionActor: owns the loaded models (onnxruntime sessions, OCR engines, cascades, ncnn nets).

Model tools run in a thread of the server process (`@tool(runs=Runs.THREAD)`), so each model loads
once per actor and is reused by every later job while the event loop never blocks (onnxruntime, ncnn
and OpenCV release the GIL); those threads run at a low CPU priority (actors.threads), so
inference never starves the fast tools. Model-free, Python-heavy tools (seam carving, analysis) run in the
family's own worker processes, confined like the image ones; they may read the models folder (face
cascades), started with the first such job. A tool whose bundle is missing is refused before it is queued (the
runtime checks `@tool(requires=...)`): 501 FEATURE_NOT_INSTALLED, naming the bundle and its size.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from actors import models, sandbox
from actors.pool import WorkerPoolActor


class VisionActor(WorkerPoolActor):
    name = "vision"
    warm_at_start = False  # three tools run in workers; the model tools run in threads

    def __init__(self, capacity: int, queue_size: int, models_dir: Path) -> None:
        super().__init__(capacity, queue_size)
        self.models_dir = models_dir

    def worker_init(self) -> sandbox.WorkerInit:
        return sandbox.WorkerInit(sandbox.policy(), readable=(str(self.models_dir.resolve()),),
                                  before=functools.partial(models.configure, self.models_dir))

    def health(self) -> dict[str, Any]:
        return models.runtime_info()


def create(capacity: int, queue_size: int, options: dict) -> VisionActor:
    data_dir = Path(options.get("data_dir") or "./data")
    models_dir = models.configure(data_dir / "models")
    models.set_memory_budget(float(options.get("model_memory_mb") or 0))
    return VisionActor(capacity, queue_size, models_dir)
