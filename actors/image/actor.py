"""The ImageActor: pyvips/Pillow tools in worker processes, libvips single-threaded per worker."""

from __future__ import annotations

from actors.pool import WorkerPoolActor


class ImageActor(WorkerPoolActor):
    name = "image"
    warm_modules = ("actors.common.imageio",)


def create(capacity: int, queue_size: int, options: dict) -> ImageActor:
    from actors.image import _netguard

    _netguard.configure(options)  # html-to-image: hosts the server allows despite private addresses
    return ImageActor(capacity, queue_size)
