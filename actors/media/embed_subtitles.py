"""Embed Subtitles: a soft subtitle track (mov_text in MP4/MOV, WebVTT in WebM, as is in MKV) with a language."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from actors.media._subtitles import charset, open_subtitle
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

SUBTITLE_CODEC = {"mp4": "mov_text", "mov": "mov_text", "webm": "webvtt", "mkv": "copy"}


class EmbedSubtitlesSettings(ToolSettings):
    language: str = Field("eng", pattern=r"^[a-z]{3}$", description="Subtitle language (ISO 639-2/B code, e.g. eng)")


@tool("embed-subtitles", section=Section.VIDEO, settings=EmbedSubtitlesSettings, inputs=(2, 2),
      roles=("subtitle",), accepts={"video", "text"}, runs=Runs.LOOP)
async def run(call: ToolCall[EmbedSubtitlesSettings]) -> ToolResult:
    """Add a subtitle track to a video (soft subtitles)."""
    s = call.settings
    info = await ffprobe.open_input(call, 0, video=True)
    await open_subtitle(call, 1)
    container = _codecs.video_container(call, info)
    target = ff.output_path(call, container)
    kept = len(info.subtitles)
    args = ["-sub_charenc", charset(call.inputs[1]), *ff.inp(call.inputs[1])]
    args = [*ff.inp(call.inputs[0]), *args, "-map", "0:v", "-map", "0:a?", "-map", "0:s?", "-map", "1:0",
            "-c:v", "copy", "-c:a", "copy", "-c:s", SUBTITLE_CODEC[container],
            f"-metadata:s:s:{kept}", f"language={s.language}", f"-disposition:s:{kept}", "default",
            "-map_metadata", "0", *_codecs.container_args(container), ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, message="embedding subtitles", what="video")
    return ToolResult([target])
