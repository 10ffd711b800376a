"""The file library's internal jobs for videos: a thumbnail of the first frame and the dimensions of a
stored video. They run on the media actor like any tool (ffmpeg slots, deadline, stats) but are
internal (`@tool(internal=True)`): no route, listing or form offers them."""

from __future__ import annotations

from pydantic import Field

from actors.media import _ffmpeg as ff
from actors.media import ffprobe
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class VideoThumbnailSettings(ToolSettings):
    width: int = Field(300, ge=16, le=2048)


class VideoProbeSettings(ToolSettings):
    pass


@tool("library-video-thumbnail", section=Section.VIDEO, settings=VideoThumbnailSettings, runs=Runs.LOOP,
      internal=True)
async def video_thumbnail(call: ToolCall[VideoThumbnailSettings]) -> ToolResult:
    """A JPEG `width` px wide of a video's first frame."""
    out = call.workdir / "thumbnail.jpg"
    await ff.run([*ff.inp(call.inputs[0]), "-frames:v", "1", "-vf", f"scale={call.settings.width}:-2",
                  "-f", "image2", "-c:v", "mjpeg", "-q:v", "4", ff.out(out)], timeout=60, what="video")
    return ToolResult([out])


@tool("library-video-probe", section=Section.VIDEO, settings=VideoProbeSettings, runs=Runs.LOOP, internal=True)
async def video_probe(call: ToolCall[VideoProbeSettings]) -> ToolResult:
    """Width and height of a video's first video stream (null for none); no output file."""
    info = await ffprobe.probe(call.inputs[0], call.names[0] if call.names else None)
    video = info.video
    return ToolResult([], {"width": video.width if video else None, "height": video.height if video else None})
