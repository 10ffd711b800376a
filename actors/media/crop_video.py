"""Crop Video: a rectangle in px of the picture as displayed."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class CropVideoSettings(ToolSettings):
    width: int = Field(..., ge=2, le=7680, description="Width of the crop in px")
    height: int = Field(..., ge=2, le=4320, description="Height of the crop in px")
    x: int = Field(0, ge=0, le=7680, description="Left edge of the crop in px")
    y: int = Field(0, ge=0, le=4320, description="Top edge of the crop in px")


@tool("crop-video", section=Section.VIDEO, settings=CropVideoSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[CropVideoSettings]) -> ToolResult:
    """Crop a video to a rectangle."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    w, h = info.video.display_size
    if s.x + s.width > w or s.y + s.height > h:
        raise bad_input(f"The crop {s.width}x{s.height} at ({s.x}, {s.y}) does not fit inside the {w}x{h} video.")
    cw, ch = s.width - s.width % 2, s.height - s.height % 2  # 4:2:0 needs even sizes
    target = await _codecs.reencode_video(call, info, vf=[f"crop={cw}:{ch}:{s.x}:{s.y}", "setsar=1"], message="cropping")
    return ToolResult([target], {"width": cw, "height": ch})
