"""Convert Video: MP4/MOV (H.264 + AAC) or WebM (VP9 + Opus) at three quality levels."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

QUALITY_CRF = {"high": 18, "balanced": 23, "small": 28}


class ConvertVideoSettings(ToolSettings):
    format: Literal["mp4", "mov", "webm"] = Field("mp4", description="Output container (mp4/mov: H.264+AAC, webm: VP9+Opus)")
    quality: Literal["high", "balanced", "small"] = Field("balanced", description="Quality versus file size")
    hardware: bool = Field(True, description="Use the GPU encoder (NVENC) when the server has one")


def build_args(info: ffprobe.MediaInfo, s: ConvertVideoSettings, source: Path, target: Path) -> list[str]:
    """The ffmpeg arguments (after the global options) for one conversion; also used by the load harness."""
    assert info.video is not None
    w, h = info.video.display_size
    crf = QUALITY_CRF[s.quality]
    args = [*ff.inp(source), "-map", "0:v:0"]
    if info.audio:
        args += ["-map", "0:a:0"]
    if w % 2 or h % 2:
        args += ["-vf", f"scale={w - w % 2}:{h - h % 2}"]
    if s.format == "webm":
        args += _codecs.vp9_args(crf + 9)
    else:
        args += _codecs.h264_args(crf, hardware=s.hardware)
    if info.audio:
        args += _codecs.audio_codec_args(s.format, {"high": 192, "balanced": 128, "small": 96}[s.quality])
    return [*args, "-map_metadata", "0", *_codecs.container_args(s.format), ff.out(target)]


@tool("convert-video", section=Section.VIDEO, settings=ConvertVideoSettings, mode=Mode.LONG,
      accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall[ConvertVideoSettings]) -> ToolResult:
    """Convert a video to MP4, MOV or WebM."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    target = ff.output_path(call, s.format)
    await ff.run(build_args(info, s, call.inputs[0], target), call=call, duration=info.duration,
                 message="converting", what="video")
    return ToolResult([target])
