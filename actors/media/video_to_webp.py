"""Video to WebP: an animated WebP (libwebp), smaller than a GIF with full colour."""

from __future__ import annotations

from pydantic import Field

from actors.media import _ffmpeg as ff
from actors.media import ffprobe
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_SECONDS = 60.0


class VideoToWebpSettings(ToolSettings):
    fps: int = Field(10, ge=1, le=30, description="Frames per second")
    width: int = Field(480, ge=16, le=1920, description="Width in px (never larger than the video)")
    quality: int = Field(75, ge=1, le=100, description="WebP quality (1-100)")
    loop: bool = Field(True, description="Loop forever (otherwise play once)")
    start_s: float = Field(0.0, ge=0, description="Start time in seconds")
    duration_s: float | None = Field(None, gt=0, le=MAX_SECONDS, description="Length in seconds (max 60)")


@tool("video-to-webp", section=Section.VIDEO, settings=VideoToWebpSettings, accepts={"video"},
      runs=Runs.LOOP)
async def run(call: ToolCall[VideoToWebpSettings]) -> ToolResult:
    """Turn a video clip into an animated WebP."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    from actors.media._common import clamp_range

    start, end = clamp_range(s.start_s, s.start_s + s.duration_s if s.duration_s else None, info.duration,
                             call.names[0])
    length = min(end - start, MAX_SECONDS)
    width = min(s.width, info.video.display_size[0])
    target = ff.output_path(call, "webp")
    args = ["-ss", f"{start:.3f}", "-t", f"{length:.3f}", *ff.inp(call.inputs[0]), "-map", "0:v:0",
            "-vf", f"fps={s.fps},scale={width}:-2:flags=lanczos", "-c:v", "libwebp_anim", "-quality",
            str(s.quality), "-compression_level", "4", "-loop", "0" if s.loop else "1", "-an", ff.out(target)]
    await ff.run(args, call=call, duration=length, message="making WebP", what="video")
    return ToolResult([target])
