"""Split Audio: into fixed-length pieces, N equal parts, or at the pauses (silencedetect) -> a ZIP."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from actors.media import _audio, _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_PARTS = 500
SEGMENT_FORMAT = {"mp3": "mp3", "wav": "wav", "flac": "flac", "ogg": "ogg", "opus": "opus", "m4a": "ipod"}


class SplitAudioSettings(ToolSettings):
    mode: Literal["time", "parts", "silence"] = Field("time", description="Split every segmentS, into N parts, or at pauses")
    segment_s: float = Field(30, ge=1, le=3600, description="mode=time: length of each piece in seconds")
    parts: int = Field(2, ge=2, le=100, description="mode=parts: number of equal parts")
    threshold_db: float = Field(-40, ge=-80, le=-20, description="mode=silence: below this level (dB) is a pause")
    min_silence_s: float = Field(0.5, ge=0.1, le=10, description="mode=silence: shortest pause to split at")


async def silence_cuts(call: ToolCall, info: ffprobe.MediaInfo, threshold_db: float, min_silence_s: float) -> list[float]:
    """Cut points in the middle of each pause that has sound on both sides."""
    stderr = await ff.run([*ff.inp(call.inputs[0]), "-map", "0:a:0", "-af",
                           f"silencedetect=n={threshold_db:g}dB:d={min_silence_s:g}", "-f", "null", "-"],
                          call=call, duration=info.duration, span=(0, 50), message="finding pauses", loglevel="info",
                          what="audio")
    starts = [float(x) for x in re.findall(r"silence_start: (-?[\d.]+)", stderr)]
    ends = [float(x) for x in re.findall(r"silence_end: (-?[\d.]+)", stderr)]
    cuts = []
    for start, end in zip(starts, ends, strict=False):
        if start > 0.05 and end < info.duration - 0.05:
            cuts.append((max(0.0, start) + end) / 2)
    return cuts


@tool("split-audio", section=Section.AUDIO, settings=SplitAudioSettings, accepts=_audio.ACCEPTS,
      runs=Runs.LOOP)
async def run(call: ToolCall[SplitAudioSettings]) -> ToolResult:
    """Split audio into several files."""
    s = call.settings
    info = await _audio.open_audio(call)
    if s.mode == "time":
        count = int(info.duration // s.segment_s)
        if count > MAX_PARTS:  # before listing the cuts: a header declaring years would list millions of them
            raise bad_input(f"That would make at least {count} files; the limit is {MAX_PARTS}.")
        cuts = [s.segment_s * i for i in range(1, count + 1) if s.segment_s * i < info.duration - 0.05]
    elif s.mode == "parts":
        cuts = [info.duration * i / s.parts for i in range(1, s.parts)]
    else:
        cuts = await silence_cuts(call, info, s.threshold_db, s.min_silence_s)
        if not cuts:
            raise bad_input(f"No pause of at least {s.min_silence_s:g} s below {s.threshold_db:g} dB was found.")
    if not cuts:
        raise bad_input(f"The audio ({info.duration:.2f} s) is shorter than one segment; nothing to split.")
    if len(cuts) + 1 > MAX_PARTS:
        raise bad_input(f"That would make {len(cuts) + 1} files; the limit is {MAX_PARTS}.")
    fmt = _codecs.audio_format(call, info)
    with ff.scratch(call) as tmp:
        args = [*ff.inp(call.inputs[0]), "-map", "0:a:0", "-vn", *_codecs.audio_encode_args(fmt),
                "-f", "segment", "-segment_format", SEGMENT_FORMAT[fmt], "-segment_times",
                ",".join(f"{c:.3f}" for c in cuts), "-reset_timestamps", "1", ff.out(tmp / f"part_%04d.{fmt}")]
        await ff.run(args, call=call, duration=info.duration, span=(50 if s.mode == "silence" else 0, 100),
                     message="splitting", what="audio")
        pieces = sorted(tmp.glob(f"part_*.{fmt}"))
        outputs = []
        for i, piece in enumerate(pieces, 1):
            target = call.workdir / f"{call.stem()}_part{i:02d}.{fmt}"
            piece.replace(target)
            outputs.append(target)
    if not outputs:
        raise bad_input("The audio could not be split.")
    return ToolResult(outputs, {"parts": len(outputs), "cutsS": [round(c, 3) for c in cuts]})
