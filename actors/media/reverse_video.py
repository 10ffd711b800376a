"""Reverse Video: frames (and sound) played backwards; limited to 5 minutes (it buffers every frame)."""

from __future__ import annotations

from actors.media import _ffmpeg as ff
from protocols.errors import bad_input
from protocols.tools import Family, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_REVERSE_S = 300


class ReverseVideoSettings(ToolSettings):
    pass


@tool("reverse-video", section=Section.VIDEO, family=Family.MEDIA, settings=ReverseVideoSettings, accepts={"video"},
      in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Play a video backwards."""
    info = await ff.open_input(call, video=True)
    if info.duration > MAX_REVERSE_S:
        raise bad_input(f"Reverse works on videos up to {MAX_REVERSE_S // 60} minutes; this one is "
                        f"{info.duration / 60:.1f} minutes. Trim it first.")
    target = await ff.reencode_video(call, info, vf=["reverse"], af=["areverse"], message="reversing")
    return ToolResult([target])
