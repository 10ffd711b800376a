"""GIF <-> WebP: animated GIF to animated WebP and back, with quality, lossless and resize."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from actors.image import _anim
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class GifWebpSettings(ToolSettings):
    quality: int = Field(80, ge=1, le=100, description="WebP quality (GIF -> WebP)")
    lossless: bool = Field(False, description="Lossless WebP (GIF -> WebP)")
    resize_percent: int = Field(100, ge=10, le=100, description="Scale every frame, percent")


@tool("gif-webp", section=Section.IMAGE, settings=GifWebpSettings, accepts={"image", "svg"})
def run(call: ToolCall[GifWebpSettings]) -> ToolResult:
    """Convert an animated GIF to WebP, or an (animated) WebP to GIF."""
    s = call.settings
    anim = _anim.load(call.inputs[0], call.limits)
    if s.resize_percent != 100:
        w = max(1, round(anim.width * s.resize_percent / 100))
        h = max(1, round(anim.height * s.resize_percent / 100))
        anim.frames = [v.run_vips("resized", v.resize_exact, f, w, h) for f in anim.frames]
    if anim.source == "gif":
        data, ext = _anim.encode_webp(anim, quality=s.quality, lossless=s.lossless), "webp"
    else:
        data, ext = _anim.encode_gif(anim), "gif"
    out = call.workdir / f"{call.stem()}.{ext}"
    out.write_bytes(data)
    return ToolResult([out], {"from": anim.source, "to": ext, "frames": len(anim.frames),
                              "width": anim.frames[0].width, "height": anim.frames[0].height,
                              "durationMs": anim.duration_ms})
