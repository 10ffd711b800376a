"""Image splitting: a rows×cols grid, horizontal strips, vertical strips, or fixed tile sizes -> ZIP."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

MAX_TILES = 1024


class SplitSettings(ToolSettings):
    mode: Literal["grid", "rows", "cols"] = Field("grid", description="Grid of rows×cols, or strips")
    rows: int = Field(2, ge=1, le=100, description="Rows (grid and rows modes)")
    cols: int = Field(2, ge=1, le=100, description="Columns (grid and cols modes)")
    tile_width: int | None = Field(None, ge=1, le=65535, description="Fixed tile width in px (overrides cols)")
    tile_height: int | None = Field(None, ge=1, le=65535, description="Fixed tile height in px (overrides rows)")
    format: Literal["original", "png", "jpeg", "jpg", "webp"] = Field("original", description="Tile format")
    quality: int | None = Field(None, ge=1, le=100, description="Quality for lossy formats")


def edges(total: int, parts: int) -> list[tuple[int, int]]:
    """Split `total` px into `parts` spans whose sizes differ by at most 1 px."""
    bounds = [round(i * total / parts) for i in range(parts + 1)]
    return [(bounds[i], bounds[i + 1] - bounds[i]) for i in range(parts)]


def fixed(total: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(size, total - start)) for start in range(0, total, size)]


@tool("split", section=Section.IMAGE, settings=SplitSettings, accepts={"image", "svg"})
def run(call: ToolCall[SplitSettings]) -> ToolResult:
    """Cut an image into tiles (returned as a ZIP)."""
    s = call.settings
    image, src = v.load_upright(call.inputs[0], call.limits)
    rows = s.rows if s.mode in ("grid", "rows") else 1
    cols = s.cols if s.mode in ("grid", "cols") else 1
    xs = fixed(image.width, s.tile_width) if s.tile_width else edges(image.width, cols)
    ys = fixed(image.height, s.tile_height) if s.tile_height else edges(image.height, rows)
    if any(size <= 0 for _, size in xs + ys):
        raise bad_input(f"The image ({image.width}×{image.height}) is too small for {len(ys)}×{len(xs)} tiles.")
    if len(xs) * len(ys) > MAX_TILES:
        raise bad_input(f"That would make {len(xs) * len(ys)} tiles; the limit is {MAX_TILES}.")
    fmt = v.output_format(src) if s.format == "original" else ("jpeg" if s.format == "jpg" else s.format)
    outputs, tiles = [], []
    width_digits = max(len(str(len(ys))), len(str(len(xs))))
    for r, (top, h) in enumerate(ys, 1):
        for c, (left, w) in enumerate(xs, 1):
            tile = v.run_vips("cut", image.crop, left, top, w, h)
            name = f"{call.stem()}_r{r:0{width_digits}d}_c{c:0{width_digits}d}"
            outputs.append(v.save(tile, call.workdir, name, fmt, s.quality))
            tiles.append({"row": r, "col": c, "left": left, "top": top, "width": w, "height": h,
                          "filename": outputs[-1].name})
    return ToolResult(outputs, {"rows": len(ys), "cols": len(xs), "tiles": tiles, "count": len(tiles)})
