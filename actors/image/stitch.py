"""Stitch / combine: images side by side, stacked, or in a grid, with gap, background and alignment."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class StitchSettings(ToolSettings):
    direction: Literal["horizontal", "vertical", "grid"] = Field("horizontal", description="How to lay out")
    gap: int = Field(0, ge=0, le=500, description="Space between images, px")
    background_color: str = Field("#ffffff", pattern=lay.HEX_PATTERN, description="Fill colour (#rrggbbaa for alpha)")
    alignment: Literal["start", "center", "end"] = Field("center", description="Cross-axis alignment")
    match_size: bool = Field(True, description="Scale images to a common height (horizontal) / width (vertical) / cell")
    columns: int | None = Field(None, ge=1, le=64, description="Columns in grid mode (default: about a square)")
    format: Literal["png", "jpeg", "jpg", "webp"] = Field("png", description="Output format")
    quality: int = Field(90, ge=1, le=100, description="Quality for jpeg/webp")


def _offset(space: int, size: int, alignment: str) -> int:
    return {"start": 0, "center": (space - size) // 2, "end": space - size}[alignment]


@tool("stitch", section=Section.IMAGE, settings=StitchSettings, inputs=(2, 64), accepts={"image", "svg"})
def run(call: ToolCall[StitchSettings]) -> ToolResult:
    """Combine several images into one."""
    s = call.settings
    images = [lay.load_rgba(p, call.limits)[0] for p in call.inputs]
    placements: list[tuple[object, int, int]] = []
    if s.direction in ("horizontal", "vertical"):
        horizontal = s.direction == "horizontal"
        if s.match_size:
            common = min(im.height if horizontal else im.width for im in images)
            images = [v.run_vips("scaled", lay.contain, im, 10**6 if horizontal else common,
                                 common if horizontal else 10**6) for im in images]
        cross = max(im.height if horizontal else im.width for im in images)
        pos = 0
        for im in images:
            if horizontal:
                placements.append((im, pos, _offset(cross, im.height, s.alignment)))
                pos += im.width + s.gap
            else:
                placements.append((im, _offset(cross, im.width, s.alignment), pos))
                pos += im.height + s.gap
        width, height = (pos - s.gap, cross) if horizontal else (cross, pos - s.gap)
    else:
        cols = s.columns or math.ceil(math.sqrt(len(images)))
        rows = math.ceil(len(images) / cols)
        cell_w = max(im.width for im in images)
        cell_h = max(im.height for im in images)
        if s.match_size:
            cell_w = min(im.width for im in images)
            cell_h = min(im.height for im in images)
            images = [v.run_vips("scaled", lay.contain, im, cell_w, cell_h) for im in images]
        for i, im in enumerate(images):
            r, c = divmod(i, cols)
            placements.append((im, c * (cell_w + s.gap) + _offset(cell_w, im.width, s.alignment),
                               r * (cell_h + s.gap) + _offset(cell_h, im.height, s.alignment)))
        width = cols * cell_w + (cols - 1) * s.gap
        height = rows * cell_h + (rows - 1) * s.gap
    v.check_pixels(width, height, call.limits, "The stitched image")
    canvas = lay.solid(width, height, lay.rgba(s.background_color))
    for im, x, y in placements:
        canvas = lay.paste(canvas, im, x, y)
    canvas = v.run_vips("composed", canvas.copy_memory)
    fmt = "jpeg" if s.format == "jpg" else s.format
    out = lay.save_as(canvas, call.workdir, "stitched", fmt, s.quality)
    return ToolResult([out], {"width": width, "height": height, "images": len(images)})
