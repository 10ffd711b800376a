"""Merge Audio: files joined end to end (resampled to one rate and layout) as MP3, WAV, FLAC or M4A."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.media import _audio, _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.errors import ErrorCode, ToolError
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_FILES = 100


class MergeAudioSettings(ToolSettings):
    format: Literal["mp3", "wav", "flac", "m4a"] = Field("mp3", description="Output format")


@tool("merge-audio", section=Section.AUDIO, settings=MergeAudioSettings,
      inputs=(2, MAX_FILES), accepts=_audio.ACCEPTS, runs=Runs.LOOP)
async def run(call: ToolCall[MergeAudioSettings]) -> ToolResult:
    """Join several audio files into one."""
    s = call.settings
    infos = [await ffprobe.open_input(call, i, audio=True, limit=False) for i in range(len(call.inputs))]
    total = sum(i.duration for i in infos)
    limit = ffprobe.max_duration()
    if limit and total > limit + 0.05:
        raise ToolError(f"The merged audio would be {total:.1f} s long; this server accepts media up to {limit:g} s.",
                        ErrorCode.PAYLOAD_TOO_LARGE, 413)
    rate = max(i.audio.sample_rate for i in infos if i.audio) or 44100
    stereo = any(i.audio and i.audio.channels > 1 for i in infos)
    layout = "stereo" if stereo else "mono"
    args: list[str] = []
    for path in call.inputs:
        args += ff.inp(path)
    parts = [f"[{n}:a:0]aresample={rate},aformat=sample_fmts=fltp:channel_layouts={layout}[a{n}]"
             for n in range(len(infos))]
    graph = ";".join(parts) + ";" + "".join(f"[a{n}]" for n in range(len(infos))) + \
        f"concat=n={len(infos)}:v=0:a=1[a]"
    target = ff.output_path(call, s.format)
    args += ["-filter_complex", graph, "-map", "[a]", *_codecs.audio_encode_args(s.format), ff.out(target)]
    await ff.run(args, call=call, duration=total, message="merging", what="audio")
    return ToolResult([target], {"files": len(infos), "durationS": round(total, 3)})
