"""SVG to raster: sanitise the SVG, then render it with libvips (librsvg) at a size, scale or DPI."""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from actors.common import imageio as v
from actors.common import svgsafe
from actors.image import _layout as lay
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp", "avif": "avif", "tiff": "tiff", "gif": "gif",
           "heif": "heif"}


class SvgToRasterSettings(ToolSettings):
    format: Literal[tuple(FORMATS)] = Field("png", description="Output format")  # type: ignore[valid-type]
    width: int | None = Field(None, ge=1, le=16384, description="Output width in px (keeps the aspect ratio)")
    height: int | None = Field(None, ge=1, le=16384, description="Output height in px (keeps the aspect ratio)")
    scale: float = Field(1, gt=0, le=20, description="Scale factor (when no width/height)")
    dpi: float = Field(72, ge=10, le=1200, description="Render resolution (72 = one SVG px per output px)")
    background: str | None = Field(None, pattern=lay.HEX_PATTERN,
                                   description="Fill behind the drawing (default transparent; white for JPEG)")
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy formats")


def render(svg: bytes, s: SvgToRasterSettings, limits) -> pyvips.Image:
    try:
        probe = pyvips.Image.svgload_buffer(svg, dpi=s.dpi, unlimited=False)
    except pyvips.Error:
        raise bad_input("The SVG could not be rendered: it may be empty or invalid.") from None
    if s.width and s.height:
        scale = min(s.width / probe.width, s.height / probe.height)
    elif s.width:
        scale = s.width / probe.width
    elif s.height:
        scale = s.height / probe.height
    else:
        scale = s.scale
    v.check_pixels(round(probe.width * scale), round(probe.height * scale), limits, "The rendered SVG")
    want_w, want_h = max(1, round(probe.width * scale)), max(1, round(probe.height * scale))
    try:
        image = pyvips.Image.svgload_buffer(svg, dpi=s.dpi, scale=scale, unlimited=False)
        if (image.width, image.height) != (want_w, want_h):  # librsvg rounds the canvas up
            if image.width >= want_w and image.height >= want_h and image.width - want_w <= 1 \
                    and image.height - want_h <= 1:
                image = image.crop(0, 0, want_w, want_h)
            else:
                image = v.resize_exact(image, want_w, want_h)
        image = image.copy_memory()
    except pyvips.Error:
        raise bad_input("The SVG could not be rendered: it may be empty or invalid.") from None
    return lay.srgb(image)


@tool("svg-to-raster", section=Section.IMAGE, settings=SvgToRasterSettings, accepts={"svg"})
def run(call: ToolCall[SvgToRasterSettings]) -> ToolResult:
    """Render an SVG to PNG, JPEG, WebP, AVIF, TIFF, GIF or HEIF."""
    s = call.settings
    clean, removed = svgsafe.sanitize(call.inputs[0].read_bytes())
    image = render(clean, s, call.limits)
    fmt = FORMATS[s.format]
    background = s.background or ("#ffffff" if fmt == "jpeg" else None)
    if background:
        colour = lay.rgba(background)
        image = v.run_vips("rendered", lambda: lay.paste(lay.solid(image.width, image.height, colour), image, 0, 0))
        if colour[3] == 255:
            image = image[:3]
    out = v.save(image, call.workdir, call.stem(), fmt, s.quality)
    return ToolResult([out], {"width": image.width, "height": image.height, "sanitizedElements": removed})
