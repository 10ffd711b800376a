"""Pixelate the whole image or a region: block averages (box filter), then nearest-neighbour upscaling."""

from __future__ import annotations

import pyvips
from pydantic import BaseModel, ConfigDict, Field

from actors.common import imageio as v
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class Region(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    left: int = Field(..., ge=0, le=65535, description="Left edge in px")
    top: int = Field(..., ge=0, le=65535, description="Top edge in px")
    width: int = Field(..., ge=1, le=65535, description="Width in px")
    height: int = Field(..., ge=1, le=65535, description="Height in px")


class PixelateSettings(ToolSettings):
    block_size: int = Field(10, ge=2, le=128, description="Size of each block in px")
    region: Region | None = Field(None, description="Only pixelate this rectangle {left, top, width, height}")


def pixelate(image: pyvips.Image, block: int) -> pyvips.Image:
    w, h = image.width, image.height
    pw, ph = -(-w // block) * block, -(-h // block) * block
    padded = image.embed(0, 0, pw, ph, extend="copy") if (pw, ph) != (w, h) else image
    blocks = padded.shrink(block, block)
    return blocks.zoom(block, block).crop(0, 0, w, h).cast(image.format)


@tool("pixelate", section=Section.IMAGE, settings=PixelateSettings, accepts={"image", "svg"})
def run(call: ToolCall[PixelateSettings]) -> ToolResult:
    """Pixelate an image, or part of it."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    if s.region is not None:
        r = s.region
        if r.left >= image.width or r.top >= image.height:
            raise bad_input(f"The region starts outside the {image.width}×{image.height} image.")
        width, height = min(r.width, image.width - r.left), min(r.height, image.height - r.top)
        part = v.run_vips("pixelated", lambda: pixelate(image.crop(r.left, r.top, width, height), s.block_size))
        out_image = image.insert(part, r.left, r.top)
        extra = {"region": {"left": r.left, "top": r.top, "width": width, "height": height}}
    else:
        out_image = v.run_vips("pixelated", pixelate, image, s.block_size)
        extra = {}
    out = v.save(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], extra)
