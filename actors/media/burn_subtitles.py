"""Burn Subtitles: render SRT/VTT/ASS subtitles into the picture with libass."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from actors.media._subtitles import charset, copy_plain, open_subtitle
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class BurnSubtitlesSettings(ToolSettings):
    font_size: int = Field(24, ge=8, le=72, description="Subtitle font size")


@tool("burn-subtitles", section=Section.VIDEO, settings=BurnSubtitlesSettings, mode=Mode.LONG,
      inputs=(2, 2), roles=("subtitle",), accepts={"video", "text"}, runs=Runs.LOOP)
async def run(call: ToolCall[BurnSubtitlesSettings]) -> ToolResult:
    """Burn subtitles into a video."""
    s = call.settings
    info = await ffprobe.open_input(call, 0, video=True)
    fmt, _ = await open_subtitle(call, 1)
    with ff.scratch(call) as tmp:
        copy_plain(call, 1, fmt, tmp)
        # ffmpeg runs inside the scratch folder: the file is named plainly, the style is escaped all the same
        style = ff.escape_option(f"FontName=DejaVu Sans,FontSize={s.font_size},Outline=1.5,Shadow=0.5")
        vf = f"subtitles=filename=subtitles.{fmt}:charenc={charset(call.inputs[1])}:force_style={style}"
        container = _codecs.video_container(call, info)
        target = ff.output_path(call, container)
        args = [*ff.inp(call.inputs[0]), "-map", "0:v:0"]
        if info.audio:
            args += ["-map", "0:a:0"]
        args += ["-vf", vf, *_codecs.video_codec_args(container, 20)]
        if info.audio:
            args += _codecs.audio_args(container, info)
        args += ["-map_metadata", "0", *_codecs.container_args(container), ff.out(target)]
        await ff.run(args, call=call, duration=info.duration, message="burning subtitles", cwd=tmp, what="video")
    return ToolResult([target])
