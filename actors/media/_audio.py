"""Shared shape of the audio tools: probe an audio (or video) input, filter its first audio stream, write it
back in the same format (or a chosen one)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import ToolCall

ACCEPTS = {"audio", "video"}  # a video's sound track works as an audio input


async def open_audio(call: ToolCall, index: int = 0) -> ffprobe.MediaInfo:
    return await ffprobe.open_input(call, index, audio=True)


async def encode(call: ToolCall, info: ffprobe.MediaInfo, af: Sequence[str] = (), *, fmt: str | None = None,
                 bitrate_k: int | None = None, pre_input: Sequence[str] = (), extra: Sequence[str] = (),
                 duration: float | None = None, message: str | None = None, metadata: bool = True,
                 suffix: str = "", span: tuple[float, float] = (0, 100)) -> Path:
    fmt = fmt or _codecs.audio_format(call, info)
    ext = "opus" if fmt == "opus" else fmt
    target = ff.output_path(call, ext, suffix=suffix)
    args = [*pre_input, *ff.inp(call.inputs[0]), "-map", "0:a:0", "-vn", "-sn", "-dn"]
    if af:
        args += ["-af", ",".join(af)]
    args += _codecs.audio_encode_args(fmt, bitrate_k)
    args += ["-map_metadata", "0" if metadata else "-1", *extra, ff.out(target)]
    await ff.run(args, call=call, duration=info.duration if duration is None else duration, span=span,
                 message=message, what="audio")
    return target
