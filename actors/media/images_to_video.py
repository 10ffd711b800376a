"""Images to Video: a slideshow, each picture fitted (letterboxed) into 1080p, 720p or a square frame."""

from __future__ import annotations

from typing import Literal

import trio
from pydantic import Field

from actors import png_text
from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.errors import ToolError, bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

SIZES = {"1080p": (1920, 1080), "720p": (1280, 720), "square": (1080, 1080)}
MAX_IMAGES = 200


class ImagesToVideoSettings(ToolSettings):
    seconds_per_image: float = Field(2.0, ge=0.5, le=10, description="How long each image stays on screen")
    resolution: Literal["1080p", "720p", "square"] = Field("1080p", description="Frame size of the video")
    fps: int = Field(30, ge=1, le=60, description="Frames per second")
    background: str = Field("#000000", pattern=ff.HEX_COLOR, description="Colour around images of another shape")


@tool("images-to-video", section=Section.VIDEO, settings=ImagesToVideoSettings,
      inputs=(1, MAX_IMAGES), accepts={"image"}, runs=Runs.LOOP)
async def run(call: ToolCall[ImagesToVideoSettings]) -> ToolResult:
    """Make a slideshow video from images."""
    s = call.settings
    for i, path in enumerate(call.inputs):
        # FFmpeg inflates a PNG's zTXt chunk on every decode (once per frame of a slideshow): bombs first
        await trio.to_thread.run_sync(png_text.check, path, call.names[i])
        info = await ffprobe.probe(path, call.names[i])
        if info.video is None or not (info.is_still_image or info.format in ("gif", "webp_pipe")):
            raise bad_input(f"'{call.names[i]}' is not an image.")
        await _check_decodes(path, call.names[i])
    w, h = SIZES[s.resolution]
    color = ff.hex_color(s.background)
    args: list[str] = []
    parts, labels = [], []
    for n, path in enumerate(call.inputs):
        args += ["-loop", "1", "-framerate", str(s.fps), "-t", f"{s.seconds_per_image:g}", *ff.inp(path)]
        parts.append(f"[{n}:v:0]scale={w}:{h}:force_original_aspect_ratio=decrease,"
                     f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color={color},setsar=1,fps={s.fps},format=yuv420p[v{n}]")
        labels.append(f"[v{n}]")
    graph = ";".join(parts) + ";" + "".join(labels) + f"concat=n={len(labels)}:v=1:a=0[v]"
    total = s.seconds_per_image * len(call.inputs)
    limit = ffprobe.max_duration()
    if limit and total > limit + 0.05:
        from protocols.errors import ErrorCode, ToolError

        raise ToolError(f"The slideshow would be {total:g} s long; this server accepts media up to {limit:g} s.",
                        ErrorCode.PAYLOAD_TOO_LARGE, 413)
    target = ff.output_path(call, "mp4")
    args += ["-filter_complex", graph, "-map", "[v]", *_codecs.h264_args(20, "veryfast"), "-r", str(s.fps),
             *_codecs.container_args("mp4"), ff.out(target)]
    await ff.run(args, call=call, duration=total, message="making the slideshow", what="images")
    return ToolResult([target], {"images": len(call.inputs), "durationS": total})


async def _check_decodes(path, name: str) -> None:
    """`-loop 1` retries an image that never decodes forever (a truncated PNG spins until the job deadline):
    decode one frame first, so a corrupt image is a 400 at once."""
    try:
        await ff.run(["-xerror", *ff.inp(path), "-frames:v", "1", "-f", "null", "-"], timeout=30, what="image")
    except ToolError:
        raise bad_input(f"'{name}' could not be decoded; it may be corrupt or truncated.") from None
