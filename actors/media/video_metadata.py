"""Clean Video Metadata: drop container and stream tags (title, GPS location, device, dates) and chapters;
streams are copied untouched."""

from __future__ import annotations

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

TECHNICAL = {"major_brand", "minor_version", "compatible_brands", "encoder", "handler_name", "vendor_id",
             "language"}


class VideoMetadataSettings(ToolSettings):
    pass


@tool("video-metadata", section=Section.VIDEO, settings=VideoMetadataSettings,
      accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Remove metadata from a video."""
    info = await ffprobe.open_input(call, video=True)
    removed = sorted({k for k in info.tags if k.lower() not in TECHNICAL} |
                     {k for s in info.streams for k in s.tags if k.lower() not in TECHNICAL})
    container = _codecs.video_container(call, info)
    target = ff.output_path(call, container)
    args = [*ff.inp(call.inputs[0]), "-map", "0", "-map", "-0:d?", "-c", "copy", "-map_metadata", "-1",
            "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
            *_codecs.container_args(container), ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, message="cleaning metadata", what="video")
    return ToolResult([target], {"removed": removed})
