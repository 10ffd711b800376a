"""Video to GIF: a per-clip palette (palettegen + paletteuse) for good colours at a small size."""

from __future__ import annotations

from pydantic import Field

from actors.media import _ffmpeg as ff
from actors.media import ffprobe
from protocols.errors import bad_input
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_GIF_SECONDS = 60.0


class VideoToGifSettings(ToolSettings):
    fps: int = Field(10, ge=1, le=30, description="Frames per second of the GIF")
    width: int = Field(480, ge=16, le=1920, description="GIF width in px (never larger than the video)")
    start_s: float = Field(0.0, ge=0, description="Where the GIF starts, in seconds")
    duration_s: float | None = Field(None, gt=0, le=MAX_GIF_SECONDS, description="Length in seconds (max 60)")


@tool("video-to-gif", section=Section.VIDEO, settings=VideoToGifSettings, mode=Mode.LONG,
      accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall[VideoToGifSettings]) -> ToolResult:
    """Turn a video clip into an animated GIF."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    if info.duration and s.start_s >= info.duration:
        raise bad_input(f"startS ({s.start_s:g} s) is past the end of the video ({info.duration:.2f} s).")
    remaining = max(0.0, info.duration - s.start_s) if info.duration else MAX_GIF_SECONDS
    length = min(s.duration_s or remaining, remaining, MAX_GIF_SECONDS)
    width = min(s.width, info.video.display_size[0])
    graph = (f"[0:v:0]fps={s.fps},scale={width}:-2:flags=lanczos,split[a][b];"
             f"[a]palettegen=stats_mode=diff[p];[b][p]paletteuse=dither=bayer:bayer_scale=5:diff_mode=rectangle")
    target = ff.output_path(call, "gif")
    args = ["-ss", f"{s.start_s:.3f}", "-t", f"{length:.3f}", *ff.inp(call.inputs[0]), "-filter_complex", graph,
            "-loop", "0", ff.out(target)]
    await ff.run(args, call=call, duration=length, message="making GIF", what="video")
    return ToolResult([target], {"durationS": round(length, 3)})
