"""GIF tools: resize, optimize, reverse, speed, extract-frames, rotate, add-text (animation kept),
and the /info sub-route (frames, size, duration, loop)."""

from __future__ import annotations

from typing import Literal
from xml.sax.saxutils import escape

from pydantic import Field, model_validator

from actors.common import imageio as v
from actors.image import _anim
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class GifToolsSettings(ToolSettings):
    action: Literal["resize", "optimize", "reverse", "speed", "extract-frames", "rotate", "add-text"] = Field(
        ..., description="What to do")
    width: int | None = Field(None, ge=1, le=4096, description="resize: width in px")
    height: int | None = Field(None, ge=1, le=4096, description="resize: height in px")
    percentage: float | None = Field(None, ge=1, le=400, description="resize: scale in percent")
    colors: int = Field(128, ge=2, le=256, description="optimize: palette size")
    lossy: int = Field(0, ge=0, le=100, description="optimize: how much inter-frame error to accept (0 = none)")
    factor: float = Field(2, ge=0.1, le=10, description="speed: playback speed factor (2 = twice as fast)")
    angle: Literal[90, 180, 270] = Field(90, description="rotate: clockwise degrees")
    frames: str = Field("all", max_length=200, description="extract-frames: 'all' or a list/range like '1-5,8'")
    frame_format: Literal["png", "webp", "jpeg"] = Field("png", description="extract-frames: image format")
    text: str | None = Field(None, max_length=200, description="add-text: the caption")
    font_size: int = Field(32, ge=6, le=300, description="add-text: font size in px")
    color: str = Field("#ffffff", pattern=lay.HEX_PATTERN, description="add-text: text colour")
    stroke_color: str = Field("#000000", pattern=lay.HEX_PATTERN, description="add-text: outline colour")
    position: Literal["top", "center", "bottom"] = Field("bottom", description="add-text: where")

    @model_validator(mode="after")
    def _action_params(self):
        if self.action == "resize" and not (self.width or self.height or self.percentage):
            raise ValueError("resize needs width, height or percentage")
        if self.action == "add-text" and not (self.text and self.text.strip()):
            raise ValueError("add-text needs text")
        return self


def parse_frames(spec: str, count: int) -> list[int]:
    from protocols.errors import bad_input

    if spec.strip().lower() == "all":
        return list(range(count))
    picked: list[int] = []
    for part in spec.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                a, b = part.split("-", 1)
                lo, hi = int(a), int(b) if b else count
                picked.extend(range(lo - 1, min(hi, count)))
            else:
                picked.append(int(part) - 1)
        except ValueError:
            raise bad_input(f"Not a frame list: {spec[:40]!r} (use e.g. '1-5,8').") from None
    picked = [i for i in dict.fromkeys(picked) if 0 <= i < count]
    if not picked:
        raise bad_input(f"No frames selected; the animation has {count}.")
    return picked


def caption(width: int, height: int, s: GifToolsSettings):
    y = {"top": s.font_size * 1.1, "center": height / 2 + s.font_size * 0.35, "bottom": height - s.font_size * 0.4}
    text = (f'<text x="{width / 2}" y="{y[s.position]:.1f}" font-family="DejaVu Sans, sans-serif" font-weight="bold" '
            f'font-size="{s.font_size}" text-anchor="middle" fill="{lay.css(lay.rgba(s.color))}" '
            f'stroke="{lay.css(lay.rgba(s.stroke_color))}" stroke-width="{max(1, s.font_size / 16):.1f}" '
            f'paint-order="stroke">{escape(s.text or "")}</text>')
    return lay.render_svg(lay.svg_doc(width, height, text), width, height)


@tool("gif-tools", section=Section.IMAGE, settings=GifToolsSettings, accepts={"image", "svg"})
def run(call: ToolCall[GifToolsSettings]) -> ToolResult:
    """Edit an animated GIF frame by frame, keeping the animation."""
    s = call.settings
    anim = _anim.load(call.inputs[0], call.limits)
    stem = call.stem()
    if s.action == "extract-frames":
        outputs = []
        picked = parse_frames(s.frames, len(anim.frames))
        digits = len(str(len(anim.frames)))
        for i in picked:
            outputs.append(v.save(anim.frames[i], call.workdir, f"{stem}_frame_{i + 1:0{digits}d}", s.frame_format))
        return ToolResult(outputs, {"frames": len(picked), "totalFrames": len(anim.frames)})
    if s.action == "resize":
        if s.percentage:
            w, h = round(anim.width * s.percentage / 100), round(anim.height * s.percentage / 100)
        elif s.width and s.height:
            w, h = s.width, s.height
        elif s.width:
            w, h = s.width, round(anim.height * s.width / anim.width)
        else:
            w, h = round(anim.width * s.height / anim.height), s.height  # type: ignore[operator]
        w, h = max(1, w), max(1, h)
        v.check_pixels(w, h * len(anim.frames), call.limits, "The resized animation")
        anim.frames = [v.run_vips("resized", v.resize_exact, f, w, h) for f in anim.frames]
    elif s.action == "reverse":
        anim.frames.reverse()
        anim.delays.reverse()
    elif s.action == "speed":
        anim.delays = [max(20, round(d / s.factor / 10) * 10) for d in anim.delays]  # GIF delays are in 1/100 s
    elif s.action == "rotate":
        anim.frames = [v.run_vips("rotated", f.rot, f"d{s.angle}") for f in anim.frames]
    elif s.action == "add-text":
        overlay = v.run_vips("drawn", caption, anim.width, anim.height, s)
        anim.frames = [lay.paste(f, overlay, 0, 0) for f in anim.frames]
    if s.action == "optimize":
        data = _anim.encode_gif(anim, colours=s.colors, dither=0.5, effort=10,
                                interframe_maxerror=s.lossy / 100 * 32)
    else:
        data = _anim.encode_gif(anim)
    out = call.workdir / f"{stem}.gif"
    out.write_bytes(data)
    return ToolResult([out], {"frames": len(anim.frames), "width": anim.frames[0].width,
                              "height": anim.frames[0].height, "durationMs": sum(anim.delays)})


class GifInfoSettings(ToolSettings):
    """No settings."""


@tool("gif-tools/info", section=Section.IMAGE, settings=GifInfoSettings, accepts={"image", "svg"})
def info(call: ToolCall) -> ToolResult:
    """Frame count, dimensions, duration and loop count of a GIF."""
    anim = _anim.load(call.inputs[0], call.limits)
    data = {"frames": len(anim.frames), "width": anim.width, "height": anim.height, "durationMs": anim.duration_ms,
            "duration": round(anim.duration_ms / 1000, 3), "delays": anim.delays, "loop": anim.loop,
            "animated": len(anim.frames) > 1, "format": anim.source, "size": call.inputs[0].stat().st_size,
            "fps": round(len(anim.frames) / (anim.duration_ms / 1000), 3) if anim.duration_ms else None}
    out = lay.write_json(call.workdir / f"{call.stem()}-info.json", data)
    return ToolResult([out], data)
