"""Trim Video: a fast keyframe cut (stream copy), or a frame-accurate re-encode with `precise`."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from actors.media import _ffmpeg as ff
from actors.media._common import TimeRange, clamp_range
from protocols.tools import Family, Section, ToolCall, ToolResult, tool


class TrimVideoSettings(TimeRange):
    precise: bool = Field(False, description="Frame-accurate cut (re-encodes); otherwise a fast cut at keyframes")


def build_args(info: ff.MediaInfo, container: str, start: float, end: float, precise: bool, source: Path,
               target: Path) -> list[str]:
    """The ffmpeg arguments for one cut; also used by the load harness."""
    args = ["-ss", f"{start:.3f}", *ff.inp(source), "-t", f"{end - start:.3f}", "-map", "0:v:0"]
    if info.audio:
        args += ["-map", "0:a:0"]
    if precise:
        args += ff.video_codec_args(container, 18)
        if info.audio:
            args += ff.audio_codec_args(container, 160)
    else:
        args += ["-c", "copy", "-avoid_negative_ts", "make_zero"]
    return [*args, "-map_metadata", "0", *ff.container_args(container), ff.out(target)]


@tool("trim-video", section=Section.VIDEO, family=Family.MEDIA, settings=TrimVideoSettings, accepts={"video"},
      in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Cut a video to a time range."""
    s: TrimVideoSettings = call.settings  # type: ignore[assignment]
    info = await ff.open_input(call, video=True)
    start, end = clamp_range(s.start_s, s.end_s, info.duration, call.names[0])
    container = ff.video_container(call, info)
    target = ff.output_path(call, container)
    await ff.run(build_args(info, container, start, end, s.precise, call.inputs[0], target), call=call,
                 duration=end - start, message="trimming", what="video")
    return ToolResult([target], {"startS": round(start, 3), "endS": round(end, 3)})
