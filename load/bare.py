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


def run_tool(tool_id: str, inputs: list[str], settings: dict, models_dir: str | None = None) -> int:
    """The tool's own code, in this (worker) process, without HTTP: the in-process baseline."""
    import shutil
    import tempfile
    from pathlib import Path

    import trio

    from actors import catalog, workers
    from protocols.tools import Limits, ToolCall

    if models_dir:
        from actors.vision import _models

        _models.configure(models_dir)
    spec = catalog.load()[tool_id]
    out = Path(tempfile.mkdtemp(prefix="lutra-bare-"))
    try:
        paths = [Path(p) for p in inputs]
        call = ToolCall(inputs=paths, names=[p.name for p in paths], settings=spec.settings.model_validate(settings),
                        workdir=out, limits=Limits(max_megapixels=250), roles=["file"] * len(paths))
        result = spec.run(call)
        if hasattr(result, "__await__"):
            async def wait(r=result):
                return await r

            result = trio.run(wait)
        result = workers.finish(result, call)
        return result.outputs[0].stat().st_size
    finally:
        shutil.rmtree(out, ignore_errors=True)
