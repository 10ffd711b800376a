"""Noise Reduction: FFT denoising (afftdn) from the recording's measured noise floor, plus a rumble high-pass.

afftdn only reduces what it takes for noise: bins within a few dB of its `nf`. A fixed `nf` misses every
recording whose hiss is louder (at −28 dBFS hiss and nf −40, `light` removed 1 dB), and its tracking does
not find the floor on its own, so the floor is measured first (see _noisefloor) and `nf` set just above it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _audio, _noisefloor
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

REDUCTION_DB = {"light": 8, "medium": 16, "strong": 28}
# afftdn takes a bin for noise up to about 5 dB above nf; 6 dB above the measured floor reduces the hiss fully
FLOOR_MARGIN_DB = 6
NF_RANGE = (-80.0, -20.0)  # afftdn's limits


class NoiseReductionSettings(ToolSettings):
    strength: Literal["light", "medium", "strong"] = Field(
        "medium", description="How much steady noise to remove: light 8 dB, medium 16 dB, strong 28 dB")


def noise_floor_setting(floor_db: float) -> float:
    return round(min(NF_RANGE[1], max(NF_RANGE[0], floor_db + FLOOR_MARGIN_DB)), 1)


@tool("noise-reduction", section=Section.AUDIO, settings=NoiseReductionSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[NoiseReductionSettings]) -> ToolResult:
    """Reduce steady background noise (hiss, hum, fans)."""
    s = call.settings
    info = await _audio.open_audio(call)
    floor = await _noisefloor.measure(call, call.inputs[0], info.duration)
    # no noise tracking (tn): over speech it walked the floor up and the pauses kept their hiss (-0.9 dB
    # instead of -16 at medium); the measured floor is the better estimate for steady noise
    af = ["highpass=f=60", f"afftdn=nr={REDUCTION_DB[s.strength]}:nf={noise_floor_setting(floor)}"]
    target = await _audio.encode(call, info, af, message="reducing noise", span=(20, 100))
    return ToolResult([target], {"noiseFloorDb": round(floor, 1)})
