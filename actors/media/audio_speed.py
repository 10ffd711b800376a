"""Audio Speed: 0.25×–4× tempo, pitch kept (chained atempo)."""

from __future__ import annotations

from pydantic import Field

from actors.media import _audio, _codecs
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class AudioSpeedSettings(ToolSettings):
    factor: float = Field(1.5, ge=0.25, le=4, description="Speed factor (2 = twice as fast)")


@tool("audio-speed", section=Section.AUDIO, settings=AudioSpeedSettings, accepts=_audio.ACCEPTS,
      runs=Runs.LOOP)
async def run(call: ToolCall[AudioSpeedSettings]) -> ToolResult:
    """Speed audio up or slow it down (pitch kept)."""
    s = call.settings
    info = await _audio.open_audio(call)
    target = await _audio.encode(call, info, _codecs.atempo_chain(s.factor), duration=info.duration / s.factor,
                                 message="changing speed")
    return ToolResult([target])
