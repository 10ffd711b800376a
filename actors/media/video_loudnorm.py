"""Normalize a video's audio to EBU R128 (-16 LUFS by default), measured in a first pass; video copied."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, _loudness, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class VideoLoudnormSettings(ToolSettings):
    target_lufs: float = Field(_loudness.TARGET_LUFS, ge=-40, le=-5,
                               description="Integrated loudness target in LUFS (EBU R128; -16 for the web, -23 broadcast)")


@tool("video-loudnorm", section=Section.VIDEO, settings=VideoLoudnormSettings,
      accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall[VideoLoudnormSettings]) -> ToolResult:
    """Normalize the loudness of a video's sound (EBU R128)."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True, audio=True)
    assert info.audio is not None
    measured = await _loudness.measure(call, call.inputs[0], info.duration, target=s.target_lufs)
    container = _codecs.video_container(call, info)
    target = ff.output_path(call, container)
    args = [*ff.inp(call.inputs[0]), "-map", "0:v:0", "-map", "0:a:0", "-c:v", "copy",
            "-af", ",".join(_loudness.apply_filter(measured, info.audio, target=s.target_lufs)),
            *_codecs.audio_codec_args(container, 192), "-map_metadata", "0", *_codecs.container_args(container), ff.out(target)]
    await ff.run(args, call=call, duration=info.duration, span=(50, 100), message="normalising", what="video")
    return ToolResult([target], {"inputLufs": measured["input_i"], "targetLufs": s.target_lufs})
