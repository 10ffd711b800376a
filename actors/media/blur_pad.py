"""Blur Pad: fill the bars of a new aspect ratio with a blurred, enlarged copy of the video itself."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from actors.media._pad import Target, canvas
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class BlurPadSettings(ToolSettings):
    target: Target = Field("9:16", description="Aspect ratio of the result")
    blur: int = Field(20, ge=2, le=50, description="Blur strength of the background")


@tool("blur-pad", section=Section.VIDEO, settings=BlurPadSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[BlurPadSettings]) -> ToolResult:
    """Pad a video to an aspect ratio with a blurred background."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    w, h = info.video.display_size
    cw, ch = canvas(w, h, s.target)
    container = _codecs.video_container(call, info)
    target = ff.output_path(call, container)
    graph = (f"[0:v:0]split[bg][fg];"
             f"[bg]scale={cw}:{ch}:force_original_aspect_ratio=increase,crop={cw}:{ch},gblur=sigma={s.blur}[blur];"
             f"[blur][fg]overlay=(W-w)/2:(H-h)/2,setsar=1[v]")
    args = [*ff.inp(call.inputs[0]), "-filter_complex", graph, "-map", "[v]"]
    if info.audio:
        args += ["-map", "0:a:0", *_codecs.audio_args(container, info)]
    args += [*_codecs.video_codec_args(container, 20), "-map_metadata", "0", *_codecs.container_args(container),
             ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, message="padding", what="video")
    return ToolResult([target], {"width": cw, "height": ch})
