"""Resize Video: to a preset height (2160p … 360p, aspect kept) or a custom width/height."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from actors.media import _codecs, ffprobe
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

PRESET_HEIGHTS = {"2160p": 2160, "1440p": 1440, "1080p": 1080, "720p": 720, "480p": 480, "360p": 360}


class ResizeVideoSettings(ToolSettings):
    width: int | None = Field(None, ge=16, le=7680, description="Width in px (custom; height follows if omitted)")
    height: int | None = Field(None, ge=16, le=4320, description="Height in px (custom; width follows if omitted)")
    preset: Literal["custom", "2160p", "1440p", "1080p", "720p", "480p", "360p"] = Field(
        "custom", description="A standard height (the width keeps the aspect ratio)")

    @model_validator(mode="after")
    def _needs_size(self):
        if self.preset == "custom" and self.width is None and self.height is None:
            raise ValueError("give width and/or height, or a preset")
        return self


def target_size(w: int, h: int, s: ResizeVideoSettings) -> tuple[int, int]:
    if s.preset != "custom":
        th = PRESET_HEIGHTS[s.preset]
        return _codecs.even(w * th / h), _codecs.even(th)
    if s.width and s.height:
        return _codecs.even(s.width), _codecs.even(s.height)
    if s.width:
        return _codecs.even(s.width), _codecs.even(h * s.width / w)
    assert s.height
    return _codecs.even(w * s.height / h), _codecs.even(s.height)


@tool("resize-video", section=Section.VIDEO, settings=ResizeVideoSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[ResizeVideoSettings]) -> ToolResult:
    """Change a video's resolution."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    w, h = info.video.display_size
    tw, th = target_size(w, h, s)
    target = await _codecs.reencode_video(call, info, vf=[f"scale={tw}:{th}:flags=lanczos", "setsar=1"],
                                     message="resizing")
    return ToolResult([target], {"width": tw, "height": th})
