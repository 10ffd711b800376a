"""Noise Reduction: FFT denoising (afftdn) that learns the noise floor, plus a rumble high-pass."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _audio
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

STRENGTH = {"light": (8, -40), "medium": (16, -35), "strong": (28, -30)}  # reduction dB, initial noise floor dB


class NoiseReductionSettings(ToolSettings):
    strength: Literal["light", "medium", "strong"] = Field("medium", description="How much noise to remove")


@tool("noise-reduction", section=Section.AUDIO, settings=NoiseReductionSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[NoiseReductionSettings]) -> ToolResult:
    """Reduce steady background noise (hiss, hum, fans)."""
    s = call.settings
    info = await _audio.open_audio(call)
    reduction, floor = STRENGTH[s.strength]
    af = ["highpass=f=60", f"afftdn=nr={reduction}:nf={floor}:tn=1"]
    target = await _audio.encode(call, info, af, message="reducing noise")
    return ToolResult([target])
