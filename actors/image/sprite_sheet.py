"""Sprite sheet: 2-64 images packed in a grid, with a JSON map of every frame's position."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class SpriteSheetSettings(ToolSettings):
    columns: int | None = Field(None, ge=1, le=16, description="Columns (default: about a square)")
    padding: int = Field(0, ge=0, le=256, description="Space around each frame, px")
    background: str = Field("#00000000", pattern=lay.HEX_PATTERN, description="Sheet colour (default transparent)")
    format: Literal["png", "webp", "jpeg", "jpg"] = Field("png", description="Sheet format")
    quality: int = Field(90, ge=1, le=100, description="Quality for webp/jpeg")


@tool("sprite-sheet", section=Section.IMAGE, settings=SpriteSheetSettings, inputs=(2, 64),
      accepts={"image", "svg"})
def run(call: ToolCall[SpriteSheetSettings]) -> ToolResult:
    """Pack images into one sprite sheet plus a JSON frame map."""
    s = call.settings
    images = [lay.load_rgba(p, call.limits)[0] for p in call.inputs]
    cols = min(s.columns or math.ceil(math.sqrt(len(images))), len(images))
    rows = math.ceil(len(images) / cols)
    cell_w = max(im.width for im in images) + 2 * s.padding
    cell_h = max(im.height for im in images) + 2 * s.padding
    width, height = cols * cell_w, rows * cell_h
    v.check_pixels(width, height, call.limits, "The sprite sheet")
    canvas = lay.solid(width, height, lay.rgba(s.background))
    frames = {}
    used: set[str] = set()
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        x, y = c * cell_w + s.padding, r * cell_h + s.padding
        canvas = lay.paste(canvas, im, x, y)
        name = Path(call.names[i] if i < len(call.names) else f"frame{i}").stem or f"frame{i}"
        base, n = name, 1
        while name in used:
            name = f"{base}_{n}"
            n += 1
        used.add(name)
        frames[name] = {"frame": {"x": x, "y": y, "w": im.width, "h": im.height}, "index": i,
                        "sourceSize": {"w": im.width, "h": im.height}}
    canvas = v.run_vips("packed", canvas.copy_memory)
    fmt = "jpeg" if s.format == "jpg" else s.format
    sheet = lay.save_as(canvas, call.workdir, "spritesheet", fmt, s.quality)
    data = {"frames": frames, "meta": {"image": sheet.name, "size": {"w": width, "h": height}, "columns": cols,
                                       "rows": rows, "cell": {"w": cell_w, "h": cell_h}, "format": fmt}}
    mapping = lay.write_json(call.workdir / "spritesheet.json", data)
    return ToolResult([sheet, mapping], {"frames": frames, "meta": data["meta"]})
