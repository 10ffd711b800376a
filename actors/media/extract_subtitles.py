"""Extract Subtitles: a video's first text subtitle track as an SRT file."""

from __future__ import annotations

from actors.media import _ffmpeg as ff
from actors.media import ffprobe
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

BITMAP_CODECS = {"hdmv_pgs_subtitle", "dvd_subtitle", "dvb_subtitle", "xsub"}


class ExtractSubtitlesSettings(ToolSettings):
    pass


@tool("extract-subtitles", section=Section.VIDEO, settings=ExtractSubtitlesSettings,
      accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Extract the subtitles of a video as SRT."""
    info = await ffprobe.open_input(call)
    text_subs = [s for s in info.subtitles if s.codec not in BITMAP_CODECS]
    if not text_subs:
        if info.subtitles:
            raise bad_input("The video's subtitles are pictures (e.g. DVD/Blu-ray), which cannot become SRT text.")
        raise bad_input(f"'{call.names[0]}' has no subtitle track.")
    chosen = text_subs[0]
    target = ff.output_path(call, "srt")
    await ff.run([*ff.inp(call.inputs[0]), "-map", f"0:{chosen.index}", "-c:s", "srt", ff.out(target)],
                 call=call, duration=info.duration, message="extracting subtitles", what="video")
    language = chosen.tags.get("language", "")
    return ToolResult([target], {"language": language, "tracks": len(info.subtitles)})
