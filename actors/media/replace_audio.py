"""Replace Audio: a video's picture with the sound of another file (video copied, audio cut to the video)."""

from __future__ import annotations

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class ReplaceAudioSettings(ToolSettings):
    pass


@tool("replace-audio", section=Section.VIDEO, settings=ReplaceAudioSettings, inputs=(2, 2),
      roles=("audio",), accepts={"video", "audio"}, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Replace a video's sound track with an audio file."""
    video = await ffprobe.open_input(call, 0, video=True)
    sound = await ffprobe.open_input(call, 1, audio=True, limit=False)
    container = _codecs.video_container(call, video)
    target = ff.output_path(call, container)
    assert sound.audio is not None
    args = [*ff.inp(call.inputs[0]), *ff.inp(call.inputs[1]), "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
            *(["-c:a", "copy"] if _codecs.audio_copy_ok(container, sound.audio.codec) and sound.duration <= video.duration
              else _codecs.audio_codec_args(container, 192)),
            "-t", f"{video.duration:.3f}", "-map_metadata", "0", *_codecs.container_args(container), ff.out(target)]
    await ff.run(args, call=call, duration=video.duration, message="replacing audio", what="video")
    return ToolResult([target])
