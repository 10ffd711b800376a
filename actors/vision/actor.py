"""The VisionActor: owns the loaded models (onnxruntime sessions, OCR engines, cascades, ncnn nets).

Model tools run in a thread of the server process, so each model loads once per actor and is reused by
every later job while the event loop never blocks (onnxruntime, ncnn and OpenCV release the GIL). Those
threads run at a lower CPU priority (see `_threads`): inference must not starve the fast tools. Model-free, Python-heavy tools (seam carving, analysis) run in worker
processes like the image tools. A tool whose bundle is missing is refused before it is queued:
501 FEATURE_NOT_INSTALLED, naming the bundle and its size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import trio

from actors import workers
from actors.pool import WorkerPoolActor
from actors.vision import _models
from actors.vision._threads import InferenceThreads
from protocols.errors import ApiError
from protocols.jobs import Job, Progress
from protocols.tools import REGISTRY, ToolResult


class ModelActor(WorkerPoolActor):
    """Shared by the vision and speech actors: thread-run model tools with a bundle check on submit."""

    name = "vision"

    def __init__(self, capacity: int, queue_size: int = 256) -> None:
        super().__init__(capacity, queue_size)
        self.threads = InferenceThreads()

    async def setup(self, nursery: trio.Nursery) -> None:
        """No warm worker processes: most jobs here run in threads next to their loaded models."""

    def submit(self, job: Job) -> None:
        missing = _models.missing_for(job.tool_id, job.call.settings)
        if missing:
            err = _models.not_installed(missing[0])
            raise ApiError(err.code, err.message, status=err.status)
        super().submit(job)

    async def execute(self, job: Job) -> ToolResult:
        spec = REGISTRY[job.tool_id]
        if spec.in_process or job.tool_id in _models.WORKER_TOOLS:
            return await super().execute(job)

        token = trio.lowlevel.current_trio_token()

        def report(progress: float, message: str | None = None) -> None:
            try:
                trio.from_thread.run_sync(job.reply, Progress(job.id, progress, message), trio_token=token)
            except (trio.RunFinishedError, trio.Cancelled):
                pass

        job.call.progress = report

        def run() -> ToolResult:
            return workers.finish(spec.run(job.call), job.call)

        # a timed-out or canceled job ends at once; its thread finishes in the background
        async with self.worker_limiter:
            return await self.threads.run(run)

    def health(self) -> dict[str, Any]:
        return _models.runtime_info()


class VisionActor(ModelActor):
    name = "vision"


def create(capacity: int, queue_size: int, options: dict) -> VisionActor:
    data_dir = Path(options.get("data_dir") or "./data")
    _models.configure(data_dir / "models")
    return VisionActor(capacity, queue_size)
