"""Compress Video: H.264 at a lower quality level, optionally scaled down to 1080p/720p/480p."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

QUALITY_CRF = {"light": 24, "balanced": 28, "strong": 33}
AUDIO_KBPS = {"light": 128, "balanced": 96, "strong": 64}
RESOLUTION_HEIGHT = {"1080p": 1080, "720p": 720, "480p": 480}


class CompressVideoSettings(ToolSettings):
    quality: Literal["light", "balanced", "strong"] = Field("balanced", description="How hard to compress")
    resolution: Literal["original", "1080p", "720p", "480p"] = Field(
        "original", description="Scale down to this height (never up)")
    hardware: bool = Field(True, description="Use the GPU encoder (NVENC) when the server has one")


@tool("compress-video", section=Section.VIDEO, settings=CompressVideoSettings, mode=Mode.LONG,
      accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall[CompressVideoSettings]) -> ToolResult:
    """Make a video smaller (MP4, H.264 + AAC)."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    w, h = info.video.display_size
    if s.resolution != "original" and h > RESOLUTION_HEIGHT[s.resolution]:
        th = RESOLUTION_HEIGHT[s.resolution]
        w, h = _codecs.even(w * th / h), th
    vf = [f"scale={w - w % 2}:{h - h % 2}", "setsar=1"]
    target = ff.output_path(call, "mp4")
    args = [*ff.inp(call.inputs[0]), "-map", "0:v:0"]
    if info.audio:
        args += ["-map", "0:a:0"]
    args += ["-vf", ",".join(vf), *_codecs.h264_args(QUALITY_CRF[s.quality], "medium", hardware=s.hardware)]
    if info.audio:
        args += ["-c:a", "aac", "-b:a", f"{AUDIO_KBPS[s.quality]}k"]
    args += ["-map_metadata", "-1", *_codecs.container_args("mp4"), ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, message="compressing", what="video")
    original = call.inputs[0].stat().st_size
    size = target.stat().st_size
    return ToolResult([target], {"width": w - w % 2, "height": h - h % 2,
                                 "savedPercent": round(100 * (1 - size / original), 1) if original else 0})
