"""Rotate Video: quarter turns and flips, baked into the pixels (no rotation flag left behind)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _codecs, ffprobe
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

FILTERS = {"cw90": ["transpose=clock"], "ccw90": ["transpose=cclock"], "180": ["hflip", "vflip"],
           "hflip": ["hflip"], "vflip": ["vflip"]}


class RotateVideoSettings(ToolSettings):
    transform: Literal["cw90", "ccw90", "180", "hflip", "vflip"] = Field(
        "cw90", description="Rotate 90° clockwise/counter-clockwise, 180°, or flip horizontally/vertically")


@tool("rotate-video", section=Section.VIDEO, settings=RotateVideoSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[RotateVideoSettings]) -> ToolResult:
    """Rotate or flip a video."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    target = await _codecs.reencode_video(call, info, vf=FILTERS[s.transform], message="rotating",
                                     extra=["-metadata:s:v:0", "rotate=0"])
    return ToolResult([target])
