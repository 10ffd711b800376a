"""Waveform Image: a PNG picture of the sound's waveform (transparent or on a background colour)."""

from __future__ import annotations

from pydantic import Field

from actors.media import _audio
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class WaveformSettings(ToolSettings):
    width: int = Field(1200, ge=100, le=8000, description="Image width in px")
    height: int = Field(240, ge=50, le=2000, description="Image height in px")
    color: str = Field("#3b82f6", pattern=ff.HEX_COLOR, description="Waveform colour (hex)")
    background: str | None = Field(None, pattern=ff.HEX_COLOR, description="Background colour (default transparent)")


@tool("waveform-image", section=Section.AUDIO, settings=WaveformSettings, accepts=_audio.ACCEPTS,
      runs=Runs.LOOP)
async def run(call: ToolCall[WaveformSettings]) -> ToolResult:
    """Draw the waveform of audio as an image."""
    s = call.settings
    info = await _audio.open_audio(call)
    wave = f"[0:a:0]aformat=channel_layouts=mono,showwavespic=s={s.width}x{s.height}:colors={ff.hex_color(s.color)}"
    if s.background:
        graph = (f"{wave}[w];color=c={ff.hex_color(s.background)}:s={s.width}x{s.height}:d=1[bg];"
                 "[bg][w]overlay=format=auto,format=rgb24[v]")
    else:
        graph = f"{wave},format=rgba[v]"
    target = ff.output_path(call, "png")
    await ff.run([*ff.inp(call.inputs[0]), "-filter_complex", graph, "-map", "[v]", "-frames:v", "1",
                  "-update", "1", ff.out(target)], call=call, duration=info.duration, message="drawing", what="audio")
    return ToolResult([target], {"width": s.width, "height": s.height})
