"""GIF to Video: an animated GIF as MP4 (H.264) or WebM (VP9), web-friendly and much smaller."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class GifToVideoSettings(ToolSettings):
    format: Literal["mp4", "webm"] = Field("mp4", description="Output format")


@tool("gif-to-video", section=Section.VIDEO, settings=GifToVideoSettings,
      accepts={"image", "video"}, runs=Runs.LOOP)
async def run(call: ToolCall[GifToVideoSettings]) -> ToolResult:
    """Convert an animated GIF to a video."""
    s = call.settings
    info = await ffprobe.probe(call.inputs[0], call.names[0])
    if info.format != "gif" or info.video is None:
        raise bad_input(f"'{call.names[0]}' is not a GIF.")
    ffprobe.check_duration(info)
    target = ff.output_path(call, s.format)
    # 4:2:0 needs even sizes; a GIF's transparent areas become black
    vf = "scale=trunc(iw/2)*2:trunc(ih/2)*2:flags=lanczos,setsar=1"
    args = [*ff.inp(call.inputs[0]), "-map", "0:v:0", "-vf", vf, *_codecs.video_codec_args(s.format, 20),
            *_codecs.container_args(s.format), "-an", ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, message="converting", what="GIF")
    return ToolResult([target])
