"""Silence Removal: cut every pause longer than minSilenceS below thresholdDb (start, middle and end)."""

from __future__ import annotations

from pydantic import Field

from actors.media import _audio
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class SilenceRemovalSettings(ToolSettings):
    threshold_db: float = Field(-50, ge=-80, le=-20, description="Below this level (dB) counts as silence")
    min_silence_s: float = Field(0.5, ge=0.1, le=5, description="Only pauses at least this long are removed")


@tool("silence-removal", section=Section.AUDIO, settings=SilenceRemovalSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[SilenceRemovalSettings]) -> ToolResult:
    """Remove silent parts from audio."""
    s = call.settings
    info = await _audio.open_audio(call)
    threshold = f"{s.threshold_db:g}dB"
    af = [f"silenceremove=start_periods=1:start_duration=0:start_threshold={threshold}:start_silence=0.05"
          f":stop_periods=-1:stop_duration={s.min_silence_s:g}:stop_threshold={threshold}:stop_silence=0.05"
          ":detection=peak"]
    target = await _audio.encode(call, info, af, message="removing silence")
    return ToolResult([target])
