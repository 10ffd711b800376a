"""Watermark Video: a text overlay (any characters: the text travels in a file, never through the filter syntax)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MARGIN = "max(10\\,h*0.03)"
POSITIONS = {
    "top-left": (MARGIN, MARGIN),
    "top-right": (f"w-tw-{MARGIN}", MARGIN),
    "bottom-left": (MARGIN, f"h-th-{MARGIN}"),
    "bottom-right": (f"w-tw-{MARGIN}", f"h-th-{MARGIN}"),
    "center": ("(w-tw)/2", "(h-th)/2"),
    "top": ("(w-tw)/2", MARGIN),
    "bottom": ("(w-tw)/2", f"h-th-{MARGIN}"),
}


class WatermarkVideoSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=500, description="Watermark text")
    position: Literal["top-left", "top-right", "bottom-left", "bottom-right", "center", "top", "bottom"] = Field(
        "bottom-right", description="Where the text goes")
    font_size: int = Field(24, ge=8, le=200, description="Font size in px")
    opacity: float = Field(0.8, ge=0, le=1, description="Text opacity (0..1)")
    color: str = Field("#ffffff", pattern=ff.HEX_COLOR, description="Text colour (hex)")


@tool("watermark-video", section=Section.VIDEO, settings=WatermarkVideoSettings,
      accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall[WatermarkVideoSettings]) -> ToolResult:
    """Put a text watermark on a video."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    x, y = POSITIONS[s.position]
    with ff.scratch(call) as tmp:
        (tmp / "text.txt").write_text(s.text.replace("\r\n", "\n"), encoding="utf-8")
        drawtext = (f"drawtext=fontfile={ff.escape_option(ff.FONT)}:textfile={ff.escape_option(str(tmp / 'text.txt'))}"
                    f":expansion=none:fontsize={s.font_size}:fontcolor={ff.hex_color(s.color)}@{s.opacity:g}"
                    f":x={x}:y={y}:shadowcolor=black@{s.opacity * 0.6:.2f}:shadowx=1:shadowy=1")
        target = await _codecs.reencode_video(call, info, vf=[drawtext], message="watermarking")
    return ToolResult([target])
