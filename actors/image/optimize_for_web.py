"""Optimize for web: shrink-on-load to a maximum size, re-encode in a web format, drop metadata.

`/preview` runs the same pipeline and answers with the image itself; the sizes travel as headers
(X-Original-Size, X-Processed-Size, X-Saved-Percent, X-Width, X-Height, X-Format).
"""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from actors.common import imageio as v
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

WebFormat = Literal["webp", "jpeg", "jpg", "avif", "png"]


class OptimizeSettings(ToolSettings):
    format: WebFormat = Field("webp", description="Output format")
    quality: int = Field(80, ge=1, le=100, description="Encoder quality (PNG: below 100 quantises to a palette)")
    max_width: int | None = Field(None, ge=1, le=65535, description="Largest width in px (never enlarges)")
    max_height: int | None = Field(None, ge=1, le=65535, description="Largest height in px (never enlarges)")
    progressive: bool = Field(True, description="Progressive JPEG / interlaced PNG")
    strip_metadata: bool = Field(True, description="Drop EXIF/XMP/IPTC (the ICC profile is kept)")


def encode(image: pyvips.Image, fmt: str, s: OptimizeSettings) -> bytes:
    keep = "icc" if s.strip_metadata else "all"
    q = s.quality
    if fmt == "jpeg":
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        return image.jpegsave_buffer(Q=q, keep=keep, optimize_coding=True, interlace=s.progressive,
                                     subsample_mode="auto", trellis_quant=False)
    if fmt == "png":
        if q < 100:
            return image.pngsave_buffer(palette=True, Q=q, keep=keep, compression=9, interlace=s.progressive,
                                        effort=7)
        return image.pngsave_buffer(keep=keep, compression=9, interlace=s.progressive)
    if fmt == "webp":
        return image.webpsave_buffer(Q=q, keep=keep, effort=4, smart_subsample=True)
    return image.heifsave_buffer(Q=q, compression="av1", keep=keep, effort=3)


def optimize(call: ToolCall[OptimizeSettings]) -> ToolResult:
    s = call.settings
    fmt = "jpeg" if s.format == "jpg" else s.format
    header, src_fmt = v.open_image(call.inputs[0], call.limits)
    w, h = v.upright_size(header)
    scale = min(1.0, (s.max_width or w) / w, (s.max_height or h) / h)
    if scale < 1:
        tw, th = max(1, round(w * scale)), max(1, round(h * scale))
        image = v.run_vips("resized", lambda: v.resize_exact(v.load_shrunk(call.inputs[0], header, src_fmt, tw, th),
                                                             tw, th))
    else:
        image, _ = v.load_upright(call.inputs[0], call.limits)
    data = v.run_vips("encoded", encode, image, fmt, s)
    out = call.workdir / f"{call.stem()}.{v.EXTENSIONS[fmt]}"
    out.write_bytes(data)
    original = call.inputs[0].stat().st_size
    saved = round(100 * (1 - len(data) / original), 1) if original else 0.0
    return ToolResult([out], {"width": image.width, "height": image.height, "format": fmt,
                              "savedPercent": saved})


@tool("optimize-for-web", section=Section.IMAGE, settings=OptimizeSettings, accepts={"image", "svg"})
def run(call: ToolCall) -> ToolResult:
    """Resize, re-encode and strip an image for the web."""
    return optimize(call)


@tool("optimize-for-web/preview", section=Section.IMAGE, settings=OptimizeSettings,
      accepts={"image", "svg"}, pipeline=False, response="file")
def preview(call: ToolCall) -> ToolResult:
    """Preview optimize-for-web: the optimized image itself, with its sizes in headers."""
    return optimize(call)
