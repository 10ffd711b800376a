"""Audio Channels: stereo to mono (mixed), mono to stereo (duplicated), or swap left and right."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _audio
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class AudioChannelsSettings(ToolSettings):
    mode: Literal["stereo-to-mono", "mono-to-stereo", "swap"] = Field("stereo-to-mono", description="What to do")


@tool("audio-channels", section=Section.AUDIO, settings=AudioChannelsSettings,
      accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[AudioChannelsSettings]) -> ToolResult:
    """Change the channel layout of audio."""
    s = call.settings
    info = await _audio.open_audio(call)
    assert info.audio is not None
    channels = info.audio.channels
    if s.mode == "stereo-to-mono":
        af = ["pan=mono|c0=0.5*c0+0.5*c1"] if channels == 2 else ["aformat=channel_layouts=mono"]
    elif s.mode == "mono-to-stereo":
        if channels != 1:
            af = ["aformat=channel_layouts=stereo"] if channels == 2 else ["pan=stereo|c0=c0|c1=c0"]
        else:
            af = ["pan=stereo|c0=c0|c1=c0"]
    else:
        if channels != 2:
            raise bad_input(f"Swapping left and right needs stereo audio; this has {channels} channel(s).")
        af = ["pan=stereo|c0=c1|c1=c0"]
    target = await _audio.encode(call, info, af, message="remixing channels")
    return ToolResult([target])
