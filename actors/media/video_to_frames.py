"""Video to Frames: every frame, every nth frame, or frames at given timestamps, as PNG/JPG in a ZIP."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from actors.media import _ffmpeg as ff
from actors.media import ffprobe
from protocols.errors import bad_input
from protocols.tools import Runs, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_FRAMES = 2000


class VideoToFramesSettings(ToolSettings):
    mode: Literal["all", "nth", "timestamps"] = Field("nth", description="Which frames to extract")
    n: int = Field(10, ge=1, le=10000, description="With mode=nth: keep one frame in n")
    timestamps: list[float] = Field(default_factory=list, max_length=500,
                                    description="With mode=timestamps: times in seconds (list or comma-separated)")
    format: Literal["png", "jpg"] = Field("png", description="Image format of the frames")

    @field_validator("timestamps", mode="before")
    @classmethod
    def _split(cls, value):
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("timestamps")
    @classmethod
    def _non_negative(cls, value: list[float]) -> list[float]:
        if any(t < 0 for t in value):
            raise ValueError("timestamps must be 0 or more")
        return value


@tool("video-to-frames", section=Section.VIDEO, settings=VideoToFramesSettings,
      accepts={"video", "image"}, runs=Runs.LOOP)
async def run(call: ToolCall[VideoToFramesSettings]) -> ToolResult:
    """Extract frames of a video as images (a ZIP when there are several)."""
    s = call.settings
    info = await ffprobe.open_input(call, video=True)
    assert info.video is not None
    fps = info.video.fps or 25
    quality = ["-q:v", "2"] if s.format == "jpg" else []
    stem = call.stem()
    outputs = []
    if s.mode == "timestamps":
        if not s.timestamps:
            raise bad_input("Give at least one timestamp.")
        late = [t for t in s.timestamps if info.duration and t >= info.duration]
        if late:
            raise bad_input(f"Timestamp {late[0]:g} s is past the end of the video ({info.duration:.2f} s).")
        for i, t in enumerate(s.timestamps, 1):
            target = ff.output_path(call, s.format, suffix=f"_{i:03d}_{round(t * 1000)}ms")
            await ff.run(["-ss", f"{t:.3f}", *ff.inp(call.inputs[0]), "-map", "0:v:0", "-frames:v", "1",
                          *quality, ff.out(target)], call=call, span=(100 * (i - 1) / len(s.timestamps),
                                                                     100 * i / len(s.timestamps)),
                         message="extracting frames", what="video")
            if not target.is_file():
                raise bad_input(f"No frame found at {t:g} s.")
            outputs.append(target)
        return ToolResult(outputs, {"frames": len(outputs)})
    step = 1 if s.mode == "all" else s.n
    expected = int(info.duration * fps / step) + 1 if info.duration else 0
    if expected > MAX_FRAMES:
        raise bad_input(f"That would make about {expected} frames; the limit is {MAX_FRAMES}. "
                        "Use mode 'nth' with a larger n, or trim the video first.")
    with ff.scratch(call) as tmp:
        vf = [f"select=not(mod(n\\,{step}))"] if step > 1 else []
        args = [*ff.inp(call.inputs[0]), "-map", "0:v:0", *(["-vf", ",".join(vf)] if vf else []),
                "-fps_mode", "passthrough", *quality, ff.out(tmp / f"frame_%05d.{s.format}")]
        await ff.run(args, call=call, duration=info.duration, message="extracting frames", what="video")
        frames = sorted(tmp.glob(f"frame_*.{s.format}"))
        if not frames:
            raise bad_input("No frames could be extracted from the video.")
        for i, frame in enumerate(frames, 1):
            target = call.workdir / f"{stem}_{i:05d}.{s.format}"
            frame.replace(target)
            outputs.append(target)
    return ToolResult(outputs, {"frames": len(outputs)})
