"""Reverse Audio: the sound played backwards."""

from __future__ import annotations

from actors.media import _audio
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_REVERSE_S = 3600  # areverse holds the whole stream in memory


class ReverseAudioSettings(ToolSettings):
    pass


@tool("reverse-audio", section=Section.AUDIO, settings=ReverseAudioSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Play audio backwards."""
    info = await _audio.open_audio(call)
    if info.duration > MAX_REVERSE_S:
        raise bad_input(f"Reverse works on audio up to {MAX_REVERSE_S // 60} minutes; trim it first.")
    target = await _audio.encode(call, info, ["areverse"], message="reversing")
    return ToolResult([target])
