"""Reverse Video: frames (and sound) played backwards; limited to 5 minutes.

ffmpeg's reverse filter holds every decoded frame in memory, so longer clips are reversed in chunks of
CHUNK_S seconds that are then joined in reverse order (memory stays bounded by one chunk of frames; the
sound, a few MB per minute, is reversed whole)."""

from __future__ import annotations

import math

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_REVERSE_S = 300
CHUNK_S = 10.0


class ReverseVideoSettings(ToolSettings):
    pass


@tool("reverse-video", section=Section.VIDEO, settings=ReverseVideoSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Play a video backwards."""
    info = await ffprobe.open_input(call, video=True)
    if info.duration > MAX_REVERSE_S:
        raise bad_input(f"Reverse works on videos up to {MAX_REVERSE_S // 60} minutes; this one is "
                        f"{info.duration / 60:.1f} minutes. Trim it first.")
    if info.duration <= CHUNK_S * 1.5:
        target = await _codecs.reencode_video(call, info, vf=["reverse"], af=["areverse"], message="reversing")
        return ToolResult([target], {"chunks": 1})
    container = _codecs.video_container(call, info)
    count = math.ceil(info.duration / CHUNK_S)
    with ff.scratch(call) as tmp:
        parts = []
        for i in range(count):
            start = i * CHUNK_S
            length = min(CHUNK_S, info.duration - start)
            part = tmp / f"part{i:04d}.{container}"
            args = ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", *ff.inp(call.inputs[0]), "-map", "0:v:0",
                    "-vf", "reverse", *_codecs.video_codec_args(container, 20), ff.out(part)]
            await ff.run(args, call=call, duration=length, span=(90 * i / count, 90 * (i + 1) / count),
                         message=f"reversing part {i + 1} of {count}", what="video")
            parts.append(part)
        listing = tmp / "parts.txt"
        listing.write_text("".join(f"file '{p.name}'\n" for p in reversed(parts)), encoding="utf-8")
        target = ff.output_path(call, container)
        # the picture parts are joined as they are; the sound (small in memory) is reversed in one piece,
        # so there are no gaps from audio priming at the joins
        args = ["-f", "concat", "-safe", "0", "-i", ff.out(listing), *ff.inp(call.inputs[0]), "-map", "0:v:0"]
        if info.audio:
            args += ["-map", "1:a:0", "-af", "areverse", *_codecs.audio_codec_args(container, 160)]
        args += ["-c:v", "copy", *_codecs.container_args(container), ff.out(target)]
        await ff.run(args, call=call, duration=info.duration, span=(90, 100), message="joining", cwd=tmp,
                     what="video")
    return ToolResult([target], {"chunks": count})
