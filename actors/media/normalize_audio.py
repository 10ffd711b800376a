"""Normalize Audio: EBU R128 loudness to -16 LUFS (or a chosen target), two passes: measure, then apply."""

from __future__ import annotations

from pydantic import Field

from actors.media import _audio, _loudness
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class NormalizeAudioSettings(ToolSettings):
    target_lufs: float = Field(_loudness.TARGET_LUFS, ge=-40, le=-5,
                               description="Integrated loudness target in LUFS (default -16)")


@tool("normalize-audio", section=Section.AUDIO, settings=NormalizeAudioSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[NormalizeAudioSettings]) -> ToolResult:
    """Normalize loudness (EBU R128)."""
    s = call.settings
    info = await _audio.open_audio(call)
    assert info.audio is not None
    measured = await _loudness.measure(call, call.inputs[0], info.duration, target=s.target_lufs)
    target = await _audio.encode(call, info, _loudness.apply_filter(measured, info.audio, target=s.target_lufs),
                                 span=(50, 100), message="normalising")
    return ToolResult([target], {"inputLufs": measured["input_i"], "targetLufs": s.target_lufs})
