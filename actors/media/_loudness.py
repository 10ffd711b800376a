"""Two-pass EBU R128 loudness normalisation with ffmpeg's loudnorm: measure, then apply linearly."""

from __future__ import annotations

import json
import re
from pathlib import Path

from actors.media import _ffmpeg as ff
from actors.media import ffprobe
from protocols.errors import ToolError
from protocols.tools import ToolCall

TARGET_LUFS = -16.0
TRUE_PEAK = -1.5
LRA = 11.0


async def measure(call: ToolCall, path: Path, duration: float, *, target: float = TARGET_LUFS,
                  span: tuple[float, float] = (0, 50)) -> dict[str, float]:
    """Pass 1: loudnorm's measurements of the first audio stream."""
    stderr = await ff.run([*ff.inp(path), "-map", "0:a:0", "-vn", "-sn", "-af",
                           f"loudnorm=I={target:g}:TP={TRUE_PEAK:g}:LRA={LRA:g}:print_format=json", "-f", "null", "-"],
                          call=call, duration=duration, span=span, message="measuring loudness", loglevel="info",
                          what="audio")
    found = re.findall(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr)
    if not found:
        raise ToolError("The loudness of the audio could not be measured.")
    raw = json.loads(found[-1])
    try:
        values = {k: float(raw[k]) for k in ("input_i", "input_tp", "input_lra", "input_thresh", "target_offset")}
    except (KeyError, ValueError):
        raise ToolError("The audio is silent or too short to measure its loudness.") from None
    if values["input_i"] == float("-inf") or values["input_i"] < -70:
        raise ToolError("The audio is silent; there is nothing to normalise.")
    return values


def apply_filter(m: dict[str, float], stream: ffprobe.StreamInfo, *, target: float = TARGET_LUFS) -> list[str]:
    """Pass 2: the measured values make loudnorm apply one linear gain where the true-peak limit allows."""
    return [
        f"loudnorm=I={target:g}:TP={TRUE_PEAK:g}:LRA={LRA:g}:measured_I={m['input_i']:.2f}"
        f":measured_TP={m['input_tp']:.2f}:measured_LRA={m['input_lra']:.2f}"
        f":measured_thresh={m['input_thresh']:.2f}:offset={m['target_offset']:.2f}:linear=true",
        f"aresample={stream.sample_rate or 48000}",  # loudnorm works at 192 kHz internally
        *([f"aformat=channel_layouts={layout}"] if (layout := channel_layout(stream)) else []),
    ]


def channel_layout(stream: ffprobe.StreamInfo) -> str:
    """The input's channel layout, named again after filters that lose it (encoders need one)."""
    if stream.layout and "(" not in stream.layout:
        return stream.layout
    return {1: "mono", 2: "stereo"}.get(stream.channels, "")
