"""Video Speed: 0.25×–4×, audio kept in sync (tempo change keeping pitch, or a tape-style change)."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class VideoSpeedSettings(ToolSettings):
    factor: float = Field(2.0, ge=0.25, le=4, description="Speed factor (2 = twice as fast)")
    keep_pitch: bool = Field(True, description="Keep the voice pitch (otherwise it rises/falls with the speed)")


def audio_speed_filters(factor: float, sample_rate: int, keep_pitch: bool) -> list[str]:
    if keep_pitch:
        return _codecs.atempo_chain(factor)
    rate = sample_rate or 44100
    return [f"asetrate={rate * factor:.0f}", f"aresample={rate}"]


@tool("video-speed", section=Section.VIDEO, settings=VideoSpeedSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[VideoSpeedSettings]) -> ToolResult:
    """Speed a video up or slow it down."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    af = audio_speed_filters(s.factor, info.audio.sample_rate, s.keep_pitch) if info.audio else []
    fps = info.video.fps if info.video and info.video.fps else 25
    target = await _codecs.reencode_video(call, info, vf=[f"setpts=PTS/{s.factor:g}", f"fps={fps:.3f}"], af=af,
                                     duration=info.duration / s.factor, message="changing speed")
    return ToolResult([target])
