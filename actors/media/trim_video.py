"""Trim Video: a fast keyframe cut (stream copy), or a frame-accurate re-encode with `precise`.

The fast cut is dominated by fixed costs, not by work: ffmpeg copying 20 s of 720p takes ~10 ms, while
starting ffprobe (and ffmpeg) costs ~60 ms each on this machine (they load ~200 shared libraries). So when
the cut's arguments do not depend on the probe (the container is known from the file name, the audio map
is optional), the stream copy starts at the same time as the probe instead of after it
(`ffprobe.copy_beside_probe`). The probe still decides: if it refuses the input (not media, no video, too
long, start past the end) the copy is killed, its partial output removed, and the probe's 4xx is the
answer. A stream copy is not an encode: the precise cut (which encodes) always waits for the probe.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from actors.media._common import TimeRange, clamp_range
from protocols.tools import Runs, Section, ToolCall, ToolResult, tool


class TrimVideoSettings(TimeRange):
    precise: bool = Field(False, description="Frame-accurate cut (re-encodes); otherwise a fast cut at keyframes")


def build_args(info: ffprobe.MediaInfo, container: str, start: float, end: float, precise: bool, source: Path,
               target: Path) -> list[str]:
    """The ffmpeg arguments for one cut, from the probed input; also used by the load harness."""
    if not precise:
        return fast_args(container, start, end, source, target)
    args = ["-ss", f"{start:.3f}", *ff.inp(source), "-t", f"{end - start:.3f}", "-map", "0:v:0"]
    if info.audio:
        args += ["-map", "0:a:0"]
    args += _codecs.video_codec_args(container, 18)
    if info.audio:
        args += _codecs.audio_codec_args(container, 160)
    return [*args, "-map_metadata", "0", *_codecs.container_args(container), ff.out(target)]


def fast_args(container: str, start: float, end: float | None, source: Path, target: Path) -> list[str]:
    """The stream-copy cut; needs nothing from the probe (no end = to the end; the audio map is optional)."""
    args = ["-ss", f"{start:.3f}", *ff.inp(source)]
    if end is not None:
        args += ["-t", f"{end - start:.3f}"]
    args += ["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy", "-avoid_negative_ts", "make_zero"]
    return [*args, "-map_metadata", "0", *_codecs.container_args(container), ff.out(target)]


@tool("trim-video", section=Section.VIDEO, settings=TrimVideoSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[TrimVideoSettings]) -> ToolResult:
    """Cut a video to a time range."""
    s = call.settings
    container = _codecs.named_video_container(call)
    if not s.precise and container is not None:  # a stream copy needing nothing from the probe: run them together
        target = ff.output_path(call, container)

        def in_range(info: ffprobe.MediaInfo) -> None:
            clamp_range(s.start_s, s.end_s, info.duration, call.names[0])

        info = await ffprobe.copy_beside_probe(call, fast_args(container, s.start_s, s.end_s, call.inputs[0], target),
                                          target, video=True, accept=in_range, message="trimming", what="video",
                                          duration=(s.end_s - s.start_s) if s.end_s else 0.0)
        start, end = clamp_range(s.start_s, s.end_s, info.duration, call.names[0])
        return ToolResult([target], {"startS": round(start, 3), "endS": round(end, 3)})
    info = await ffprobe.open_input(call, video=True)
    start, end = clamp_range(s.start_s, s.end_s, info.duration, call.names[0])
    container = _codecs.video_container(call, info)
    target = ff.output_path(call, container)
    await ff.run(build_args(info, container, start, end, s.precise, call.inputs[0], target), call=call,
                 duration=end - start, message="trimming", what="video")
    return ToolResult([target], {"startS": round(start, 3), "endS": round(end, 3)})
