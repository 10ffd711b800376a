"""The ImageActor: pyvips/Pillow tools in worker processes, libvips single-threaded per worker."""

from __future__ import annotations

from actors.pool import WorkerPoolActor


class ImageActor(WorkerPoolActor):
    name = "image"


def create(capacity: int, queue_size: int, options: dict) -> ImageActor:
    return ImageActor(capacity, queue_size)
