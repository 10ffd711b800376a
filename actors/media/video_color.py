"""Video Color: brightness, contrast, saturation and gamma (ffmpeg's eq filter)."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class VideoColorSettings(ToolSettings):
    brightness: float = Field(0.0, ge=-1, le=1, description="Brightness offset (-1..1, 0 = unchanged)")
    contrast: float = Field(1.0, ge=0, le=3, description="Contrast factor (0..3, 1 = unchanged)")
    saturation: float = Field(1.0, ge=0, le=3, description="Saturation factor (0..3, 1 = unchanged; 0 = grey)")
    gamma: float = Field(1.0, ge=0.1, le=10, description="Gamma (0.1..10, 1 = unchanged)")


@tool("video-color", section=Section.VIDEO, settings=VideoColorSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[VideoColorSettings]) -> ToolResult:
    """Adjust a video's colours."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    eq = f"eq=brightness={s.brightness:g}:contrast={s.contrast:g}:saturation={s.saturation:g}:gamma={s.gamma:g}"
    target = await _codecs.reencode_video(call, info, vf=[eq], message="adjusting colours")
    return ToolResult([target])
