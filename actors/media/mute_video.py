"""Mute Video: drop every audio stream, copy the rest untouched."""

from __future__ import annotations

from actors.media import _ffmpeg as ff
from protocols.tools import Family, Section, ToolCall, ToolResult, ToolSettings, tool


class MuteVideoSettings(ToolSettings):
    pass


@tool("mute-video", section=Section.VIDEO, family=Family.MEDIA, settings=MuteVideoSettings, accepts={"video"},
      in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Remove the sound from a video."""
    info = await ff.open_input(call, video=True)
    container = ff.video_container(call, info)
    target = ff.output_path(call, container)
    args = [*ff.inp(call.inputs[0]), "-map", "0", "-map", "-0:a", "-map", "-0:d?", "-c", "copy",
            "-map_metadata", "0", *ff.container_args(container), ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, message="muting", what="video")
    return ToolResult([target])
