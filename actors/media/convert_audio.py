"""Convert Audio: MP3, WAV, OGG (Vorbis), FLAC or M4A (AAC), with bitrate and sample rate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _audio
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class ConvertAudioSettings(ToolSettings):
    format: Literal["mp3", "wav", "ogg", "flac", "m4a"] = Field("mp3", description="Output format")
    bitrate_kbps: int = Field(192, ge=32, le=320, description="Bitrate for lossy formats (mp3/ogg/m4a)")
    sample_rate: Literal[8000, 11025, 16000, 22050, 24000, 32000, 44100, 48000] | None = Field(
        None, description="Resample to this rate in Hz (default: keep)")
    channels: Literal[1, 2] | None = Field(None, description="Mix to mono (1) or stereo (2) (default: keep)")


@tool("convert-audio", section=Section.AUDIO, settings=ConvertAudioSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[ConvertAudioSettings]) -> ToolResult:
    """Convert audio to another format."""
    s = call.settings
    info = await _audio.open_audio(call)
    extra = []
    if s.sample_rate:
        extra += ["-ar", str(s.sample_rate)]
    if s.channels:
        extra += ["-ac", str(s.channels)]
    lossy = s.format in ("mp3", "ogg", "m4a")
    target = await _audio.encode(call, info, fmt=s.format, bitrate_k=s.bitrate_kbps if lossy else None, extra=extra,
                                 message="converting")
    return ToolResult([target])
