"""Ringtone Maker: a 1-30 s excerpt with short fades, as MP3 (Android) or M4R (iPhone)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _audio
from actors.media import _ffmpeg as ff
from actors.media._common import clamp_range
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class RingtoneSettings(ToolSettings):
    start_s: float = Field(0.0, ge=0, description="Where the ringtone starts, in seconds")
    duration_s: float = Field(30, ge=1, le=30, description="Ringtone length in seconds (1-30)")
    format: Literal["mp3", "m4r"] = Field("mp3", description="mp3 (Android) or m4r (iPhone)")
    fade: bool = Field(True, description="Short fade in and out")


@tool("ringtone-maker", section=Section.AUDIO, settings=RingtoneSettings, accepts=_audio.ACCEPTS,
      runs=Runs.LOOP)
async def run(call: ToolCall[RingtoneSettings]) -> ToolResult:
    """Make a ringtone from a piece of audio."""
    s = call.settings
    info = await _audio.open_audio(call)
    start, end = clamp_range(s.start_s, s.start_s + s.duration_s, info.duration, call.names[0])
    length = end - start
    af = [f"atrim=start={start:.4f}:end={end:.4f}", "asetpts=PTS-STARTPTS"]
    if s.fade and length >= 2:
        af += ["afade=t=in:st=0:d=0.3", f"afade=t=out:st={length - 1:.3f}:d=1"]
    target = ff.output_path(call, s.format)
    args = [*ff.inp(call.inputs[0]), "-map", "0:a:0", "-vn", "-af", ",".join(af)]
    if s.format == "m4r":
        args += ["-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart", "-f", "ipod"]
    else:
        args += ["-c:a", "libmp3lame", "-b:a", "192k"]
    args += ["-map_metadata", "-1", ff.out(target)]
    await ff.run(args, call=call, duration=end, message="making the ringtone", what="audio")
    return ToolResult([target], {"durationS": round(length, 3)})
