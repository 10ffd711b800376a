"""The MediaActor: every video and audio tool, each an async function driving ffmpeg/ffprobe subprocesses.

Tools run on the actor's event loop (`@tool(runs=Runs.LOOP)`); the heavy work is in the ffmpeg child, which
`trio.run_process` kills at once when the job is cancelled or passes its deadline. The actor's capacity
bounds how many jobs (each running one ffmpeg at a time) are in flight, i.e. the ffmpeg slots. (A stream
copy that needs nothing from the probe runs its ffmpeg beside that job's ffprobe: `copy_beside_probe`.)
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from actors.media import _codecs, ffprobe
from actors.runtime import Actor, ActorStats
from protocols.jobs import Job
from protocols.tools import ToolResult

log = logging.getLogger("lutra.media")


class MediaStats(ActorStats):
    """The usual counters plus what the media family runs on, so that admin health (which lists every
    actor's stats under queue.actors) shows whether video is encoded with NVENC or on the CPU."""

    def as_dict(self) -> dict[str, Any]:  # type: ignore[override]
        hw = _codecs.HARDWARE
        return {**super().as_dict(), "encoder": "h264_nvenc" if hw.nvenc_h264 else "libx264", "nvenc": hw.nvenc_h264,
                "hardwareChecked": hw.checked}


class MediaActor(Actor):
    name = "media"

    def __init__(self, capacity: int, queue_size: int = 256, options: dict[str, Any] | None = None) -> None:
        super().__init__(capacity, queue_size)
        self.stats = MediaStats()
        options = options or {}
        self.max_duration_s = float(options.get("max_video_duration_s") or 0)

    async def setup(self, nursery: trio.Nursery) -> None:
        nursery.start_soon(_codecs.detect_hardware)  # in the background: start-up is not delayed

    def health(self) -> dict[str, Any]:
        """What admin health reports for media: encoders (NVENC or CPU) and optional filters."""
        return {**_codecs.HARDWARE.as_dict(), "checked": _codecs.HARDWARE.checked, "slots": self.capacity}

    async def execute(self, job: Job) -> ToolResult:
        token = ffprobe.MAX_DURATION_S.set(self.max_duration_s)
        try:
            return await super().execute(job)
        finally:
            ffprobe.MAX_DURATION_S.reset(token)


def create(capacity: int, queue_size: int, options: dict) -> MediaActor:
    return MediaActor(capacity, queue_size, options)
