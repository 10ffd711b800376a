"""Change FPS: resample the frame rate (frames dropped or repeated), duration unchanged."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class ChangeFpsSettings(ToolSettings):
    fps: float = Field(30, ge=1, le=120, description="New frames per second")


@tool("change-fps", section=Section.VIDEO, settings=ChangeFpsSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[ChangeFpsSettings]) -> ToolResult:
    """Change a video's frame rate."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    rate = f"{s.fps:g}"
    target = await _codecs.reencode_video(call, info, vf=[f"fps={rate}"], message="changing frame rate",
                                     extra=["-r", rate])
    return ToolResult([target], {"fps": s.fps})
