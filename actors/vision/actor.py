"""The VisionActor: owns the loaded models (onnxruntime sessions, OCR engines, cascades, ncnn nets).

Model tools run in a thread of the server process (`@tool(runs=Runs.THREAD)`), so each model loads
once per actor and is reused by every later job while the event loop never blocks (onnxruntime, ncnn
and OpenCV release the GIL). Model-free, Python-heavy tools (seam carving, analysis) run in worker
processes like the image tools. A tool whose bundle is missing is refused before it is queued:
501 FEATURE_NOT_INSTALLED, naming the bundle and its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from actors import models
from actors.runtime import Actor
from protocols.errors import ApiError
from protocols.jobs import Job


class ModelActor(Actor):
    """Shared by the vision and speech actors: a bundle check on submit, no warm worker processes."""

    name = "vision"

    def submit(self, job: Job) -> None:
        missing = models.missing_for(job.tool_id, job.call.settings)
        if missing:
            err = models.not_installed(missing[0])
            raise ApiError(err.code, err.message, status=err.status)
        super().submit(job)

    def health(self) -> dict[str, Any]:
        return models.runtime_info()


class VisionActor(ModelActor):
    name = "vision"


def create(capacity: int, queue_size: int, options: dict) -> VisionActor:
    data_dir = Path(options.get("data_dir") or "./data")
    models.configure(data_dir / "models")
    models.set_memory_budget(float(options.get("model_memory_mb") or 0))
    return VisionActor(capacity, queue_size)
