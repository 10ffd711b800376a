"""Extract Audio: a video's sound track as MP3, WAV or M4A."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class ExtractAudioSettings(ToolSettings):
    format: Literal["mp3", "wav", "m4a"] = Field("mp3", description="Audio format to write")


@tool("extract-audio", section=Section.VIDEO, settings=ExtractAudioSettings,
      accepts={"video", "audio"}, runs=Runs.LOOP)
async def run(call: ToolCall[ExtractAudioSettings]) -> ToolResult:
    """Extract the audio track of a video."""
    s = call.settings
    info = await ffprobe.open_input(call, audio=True)
    target = ff.output_path(call, s.format)
    args = [*ff.inp(call.inputs[0]), "-map", "0:a:0", "-vn", "-sn", "-dn", *_codecs.audio_encode_args(s.format),
            "-map_metadata", "0", ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, message="extracting audio", what="video")
    return ToolResult([target])
