"""Volume Adjust: a gain in dB (-30..+30), with a limiter so that a boost never clips."""

from __future__ import annotations

from pydantic import Field

from actors.media import _audio
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class VolumeAdjustSettings(ToolSettings):
    gain_db: float = Field(6.0, ge=-30, le=30, description="Gain in dB (negative = quieter)")
    limit: bool = Field(True, description="Limit peaks after a boost so the result does not clip")


@tool("volume-adjust", section=Section.AUDIO, settings=VolumeAdjustSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[VolumeAdjustSettings]) -> ToolResult:
    """Make audio louder or quieter."""
    s = call.settings
    info = await _audio.open_audio(call)
    af = [f"volume={s.gain_db:g}dB"]
    if s.limit and s.gain_db > 0:
        af.append("alimiter=limit=0.97:level=disabled")
    target = await _audio.encode(call, info, af, message="adjusting volume")
    return ToolResult([target], {"gainDb": s.gain_db})
