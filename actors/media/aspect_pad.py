"""Aspect Pad: letterbox/pillarbox a video to 16:9, 9:16, 1:1, 4:3 or 3:4 with a solid colour."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from actors.media._pad import Target, canvas
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class AspectPadSettings(ToolSettings):
    target: Target = Field("16:9", description="Aspect ratio of the result")
    color: str = Field("#000000", pattern=ff.HEX_COLOR, description="Padding colour (hex)")


@tool("aspect-pad", section=Section.VIDEO, settings=AspectPadSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[AspectPadSettings]) -> ToolResult:
    """Pad a video to an aspect ratio with a colour."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    w, h = info.video.display_size
    cw, ch = canvas(w, h, s.target)
    vf = [f"pad={cw}:{ch}:(ow-iw)/2:(oh-ih)/2:color={ff.hex_color(s.color)}", "setsar=1"]
    target = await _codecs.reencode_video(call, info, vf=vf, message="padding")
    return ToolResult([target], {"width": cw, "height": ch})
