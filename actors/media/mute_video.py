"""Mute Video: drop every audio stream, copy the rest untouched."""

from __future__ import annotations

from pathlib import Path

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class MuteVideoSettings(ToolSettings):
    pass


@tool("mute-video", section=Section.VIDEO, settings=MuteVideoSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Remove the sound from a video."""
    container = _codecs.named_video_container(call)
    if container is not None:  # a stream copy needing nothing from the probe: run them together
        target = ff.output_path(call, container)
        await ffprobe.copy_beside_probe(call, copy_args(call, container, target), target, video=True, message="muting",
                                   what="video")
        return ToolResult([target])
    info = await ffprobe.open_input(call, video=True)
    container = _codecs.video_container(call, info)
    target = ff.output_path(call, container)
    await ff.run(copy_args(call, container, target), call=call, duration=info.duration, message="muting",
                 what="video")
    return ToolResult([target])


def copy_args(call: ToolCall, container: str, target: Path) -> list[str]:
    return [*ff.inp(call.inputs[0]), "-map", "0", "-map", "-0:a", "-map", "-0:d?", "-c", "copy", "-map_metadata", "0",
            *_codecs.container_args(container), ff.out(target)]
