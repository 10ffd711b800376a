"""The same operations as the scenarios, done with the bare library in worker processes (no HTTP)."""

from __future__ import annotations

import time


def resize_jpeg(path: str, width: int) -> int:
    import pyvips

    pyvips.concurrency_set(1)
    image = pyvips.Image.thumbnail(path, width, height=10_000_000)
    return len(image.jpegsave_buffer(Q=85, optimize_coding=True, keep="icc"))


def resize_png(path: str, width: int) -> int:
    import pyvips

    pyvips.concurrency_set(1)
    image = pyvips.Image.thumbnail(path, width, height=10_000_000)
    return len(image.pngsave_buffer(compression=6, keep="icc"))


def warm() -> float:
    import pyvips  # noqa: F401

    return time.perf_counter()
