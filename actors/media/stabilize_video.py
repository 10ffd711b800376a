"""Stabilize Video: vid.stab in two passes (detect the shake, then smooth the camera path), with ffmpeg's
`deshake` as a one-pass fallback when the ffmpeg build lacks vid.stab."""

from __future__ import annotations

from pydantic import Field

from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class StabilizeVideoSettings(ToolSettings):
    smoothing: int = Field(10, ge=5, le=60, description="How many frames to smooth the camera motion over")


@tool("stabilize-video", section=Section.VIDEO, settings=StabilizeVideoSettings,
      mode=Mode.LONG, accepts={"video"}, runs=Runs.LOOP)
async def run(call: ToolCall[StabilizeVideoSettings]) -> ToolResult:
    """Remove camera shake from a video."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    hw = await _codecs.detect_hardware()
    if not hw.vidstab:
        target = await _codecs.reencode_video(call, info, vf=["deshake"], message="stabilising")
        return ToolResult([target], {"method": "deshake"})
    with ff.scratch(call) as tmp:
        # relative names inside the scratch folder (ffmpeg runs there): nothing to escape in the filter
        await ff.run([*ff.inp(call.inputs[0]), "-map", "0:v:0", "-vf",
                      "vidstabdetect=shakiness=8:accuracy=15:result=transforms.trf", "-f", "null", "-"],
                     call=call, duration=info.duration, span=(0, 50), message="analysing motion", cwd=tmp,
                     what="video")
        container = _codecs.video_container(call, info)
        target = ff.output_path(call, container)
        args = [*ff.inp(call.inputs[0]), "-map", "0:v:0"]
        if info.audio:
            args += ["-map", "0:a:0"]
        args += ["-vf", f"vidstabtransform=input=transforms.trf:smoothing={s.smoothing}:zoom=0:optzoom=1,"
                        "unsharp=5:5:0.8:3:3:0.4",
                 *_codecs.video_codec_args(container, 20)]
        if info.audio:
            args += _codecs.audio_args(container, info)
        args += ["-map_metadata", "0", *_codecs.container_args(container), ff.out(target)]
        await ff.run(args, call=call, duration=info.duration, span=(50, 100), message="stabilising", cwd=tmp,
                     what="video")
    return ToolResult([target], {"method": "vidstab"})
