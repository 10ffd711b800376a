"""Change FPS: resample the frame rate (frames dropped or repeated), duration unchanged."""

from __future__ import annotations

from pydantic import Field

from actors.media import _ffmpeg as ff
from protocols.tools import Family, Section, ToolCall, ToolResult, ToolSettings, tool


class ChangeFpsSettings(ToolSettings):
    fps: float = Field(30, ge=1, le=120, description="New frames per second")


@tool("change-fps", section=Section.VIDEO, family=Family.MEDIA, settings=ChangeFpsSettings, accepts={"video"},
      in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Change a video's frame rate."""
    s: ChangeFpsSettings = call.settings  # type: ignore[assignment]
    info = await ff.open_input(call, video=True)
    rate = f"{s.fps:g}"
    target = await ff.reencode_video(call, info, vf=[f"fps={rate}"], message="changing frame rate",
                                     extra=["-r", rate])
    return ToolResult([target], {"fps": s.fps})
