"""Volume Adjust: a gain in dB (-30..+30), with a limiter so that a boost never clips."""

from __future__ import annotations

from pydantic import Field

from actors.media import _audio
from protocols.tools import Family, Section, ToolCall, ToolResult, ToolSettings, tool


class VolumeAdjustSettings(ToolSettings):
    gain_db: float = Field(6.0, ge=-30, le=30, description="Gain in dB (negative = quieter)")
    limit: bool = Field(True, description="Limit peaks after a boost so the result does not clip")


@tool("volume-adjust", section=Section.AUDIO, family=Family.MEDIA, settings=VolumeAdjustSettings,
      accepts=_audio.ACCEPTS, in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Make audio louder or quieter."""
    s: VolumeAdjustSettings = call.settings  # type: ignore[assignment]
    info = await _audio.open_audio(call)
    af = [f"volume={s.gain_db:g}dB"]
    if s.limit and s.gain_db > 0:
        af.append("alimiter=limit=0.97:level=disabled")
    target = await _audio.encode(call, info, af, message="adjusting volume")
    return ToolResult([target], {"gainDb": s.gain_db})
