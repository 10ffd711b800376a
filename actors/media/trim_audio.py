"""Trim Audio: keep startS..endS (sample-accurate: the audio is re-encoded)."""

from __future__ import annotations

from actors.media import _audio
from actors.media._common import TimeRange, clamp_range
from protocols.tools import Runs, Section, ToolCall, ToolResult, tool


class TrimAudioSettings(TimeRange):
    pass


@tool("trim-audio", section=Section.AUDIO, settings=TrimAudioSettings, accepts=_audio.ACCEPTS,
      runs=Runs.LOOP)
async def run(call: ToolCall[TrimAudioSettings]) -> ToolResult:
    """Cut audio to a time range."""
    s = call.settings
    info = await _audio.open_audio(call)
    start, end = clamp_range(s.start_s, s.end_s, info.duration, call.names[0])
    target = await _audio.encode(call, info, [f"atrim=start={start:.4f}:end={end:.4f}", "asetpts=PTS-STARTPTS"],
                                 duration=end, message="trimming")
    return ToolResult([target], {"startS": round(start, 3), "endS": round(end, 3)})
