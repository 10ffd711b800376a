"""Convert between jpg, png, webp, avif, tiff, gif, heic and heif (HEIC/HEIF/AVIF decode too)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

FORMAT_NAMES = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp", "avif": "avif", "tiff": "tiff",
                "gif": "gif", "heic": "heic", "heif": "heif"}


class ConvertSettings(ToolSettings):
    format: Literal["jpg", "jpeg", "png", "webp", "avif", "tiff", "gif", "heic", "heif"] = Field(
        ..., description="Output format"
    )
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy formats")


@tool("convert", section=Section.IMAGE, settings=ConvertSettings, accepts={"image", "svg"})
def run(call: ToolCall[ConvertSettings]) -> ToolResult:
    """Convert an image to another format."""
    s = call.settings
    image, _ = v.load_upright(call.inputs[0], call.limits)
    fmt = FORMAT_NAMES[s.format]
    out = v.save(image, call.workdir, call.stem(), fmt, s.quality)
    return ToolResult([out], {"format": v.EXTENSIONS[fmt], "width": image.width, "height": image.height})
