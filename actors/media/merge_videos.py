"""Merge Videos: clips joined end to end, each scaled/padded to the first clip's resolution and frame rate,
with sound kept in sync (silence stands in for a clip without audio)."""

from __future__ import annotations

import math

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_CLIPS = 50


class MergeVideosSettings(ToolSettings):
    pass


@tool("merge-videos", section=Section.VIDEO, settings=MergeVideosSettings, mode=Mode.LONG,
      inputs=(2, MAX_CLIPS), accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Join several videos into one."""
    infos = [await ffprobe.open_input(call, i, video=True, limit=False) for i in range(len(call.inputs))]
    lengths = [clip_length(i) for i in infos]
    total = sum(lengths)
    limit = ffprobe.max_duration()
    if limit and total > limit + 0.05:
        from protocols.errors import ErrorCode, ToolError

        raise ToolError(f"The merged video would be {total:.1f} s long; this server accepts media up to {limit:g} s.",
                        ErrorCode.PAYLOAD_TOO_LARGE, 413)
    first = infos[0].video
    assert first is not None
    w, h = first.display_size
    w, h = w - w % 2, h - h % 2
    fps = f"{first.fps:.3f}" if first.fps else "30"
    with_audio = any(i.audio for i in infos)
    args: list[str] = []
    for path in call.inputs:
        args += ff.inp(path)
    parts, labels = [], []
    for n, (info, length) in enumerate(zip(infos, lengths, strict=True)):
        parts.append(f"[{n}:v:0]scale={w}:{h}:force_original_aspect_ratio=decrease,"
                     f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,setsar=1,fps={fps},format=yuv420p[v{n}]")
        labels.append(f"[v{n}]")
        if with_audio:
            if info.audio:
                parts.append(f"[{n}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
                             f"apad,atrim=0:{length:.3f}[a{n}]")
            else:
                parts.append(f"anullsrc=r=48000:cl=stereo,atrim=0:{length:.3f}[a{n}]")
            labels.append(f"[a{n}]")
    graph = ";".join(parts) + ";" + "".join(labels) + f"concat=n={len(infos)}:v=1:a={int(with_audio)}[v]" + \
        ("[a]" if with_audio else "")
    target = ff.output_path(call, "mp4")
    args += ["-filter_complex", graph, "-map", "[v]"]
    if with_audio:
        args += ["-map", "[a]", "-c:a", "aac", "-b:a", "160k"]
    args += [*_codecs.h264_args(20), *_codecs.container_args("mp4"), ff.out(target)]
    await ff.run(args, call=call, duration=total, message="merging", what="videos")
    return ToolResult([target], {"clips": len(infos), "width": w, "height": h})


def _clock(text: str) -> float:
    """'00:00:01.007000000' (a Matroska DURATION tag) -> seconds; 0 when unreadable."""
    try:
        h, m, sec = text.strip().split(":")
        value = int(h) * 3600 + int(m) * 60 + float(sec)
    except ValueError:
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


def clip_length(info: ffprobe.MediaInfo) -> float:
    """How long a clip lasts in the merge: its video stream's length, not the container's. Each clip's audio
    is padded or cut to it, so that audio and video of a clip end together; a container header that declares
    136 years over one second of video (or audio longer than the picture) would otherwise make the audio
    run on alone, and FFmpeg buffers the other clips meanwhile (20 GB in 12 s)."""
    video = info.video
    declared = video.duration if video else 0.0
    if not declared and video:
        declared = next((_clock(v) for k, v in video.tags.items() if k.upper() == "DURATION"), 0.0)
    if declared and info.duration:
        return min(declared, info.duration)
    return declared or info.duration
