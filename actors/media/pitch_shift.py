"""Pitch Shift: up or down by semitones, duration unchanged (Rubber Band; a resample+tempo chain without it)."""

from __future__ import annotations

from pydantic import Field

from actors.media import _audio, _codecs
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class PitchShiftSettings(ToolSettings):
    semitones: float = Field(2.0, ge=-12, le=12, description="Semitones up (positive) or down (negative)")


@tool("pitch-shift", section=Section.AUDIO, settings=PitchShiftSettings, accepts=_audio.ACCEPTS,
      runs=Runs.LOOP)
async def run(call: ToolCall[PitchShiftSettings]) -> ToolResult:
    """Change the pitch without changing the speed."""
    s = call.settings
    info = await _audio.open_audio(call)
    assert info.audio is not None
    ratio = 2 ** (s.semitones / 12)
    hw = await _codecs.detect_hardware()
    if hw.rubberband:
        af = [f"rubberband=pitch={ratio:.6f}:pitchq=quality:formant=preserved"]
    else:
        rate = info.audio.sample_rate or 44100
        af = [f"asetrate={rate * ratio:.0f}", f"aresample={rate}", *_codecs.atempo_chain(1 / ratio)]
    target = await _audio.encode(call, info, af, message="shifting pitch")
    return ToolResult([target], {"semitones": s.semitones})
