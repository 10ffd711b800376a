"""Collage / grid: 27 templates of cells (fractions of the canvas), gap, background, rounded cells."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

Cell = tuple[float, float, float, float]  # x, y, w, h as fractions of the canvas


def grid(cols: int, rows: int) -> list[Cell]:
    return [(c / cols, r / rows, 1 / cols, 1 / rows) for r in range(rows) for c in range(cols)]


T3 = 1 / 3
TEMPLATES: dict[str, list[Cell]] = {
    "1-single": [(0, 0, 1, 1)],
    "2-horizontal": grid(2, 1),
    "2-vertical": grid(1, 2),
    "2-big-left": [(0, 0, 2 * T3, 1), (2 * T3, 0, T3, 1)],
    "2-big-top": [(0, 0, 1, 2 * T3), (0, 2 * T3, 1, T3)],
    "3-horizontal": grid(3, 1),
    "3-vertical": grid(1, 3),
    "3-big-left": [(0, 0, 0.5, 1), (0.5, 0, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)],
    "3-big-right": [(0, 0, 0.5, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0, 0.5, 1)],
    "3-big-top": [(0, 0, 1, 0.5), (0, 0.5, 0.5, 0.5), (0.5, 0.5, 0.5, 0.5)],
    "3-big-bottom": [(0, 0, 0.5, 0.5), (0.5, 0, 0.5, 0.5), (0, 0.5, 1, 0.5)],
    "4-grid": grid(2, 2),
    "4-horizontal": grid(4, 1),
    "4-vertical": grid(1, 4),
    "4-big-left": [(0, 0, 2 * T3, 1), (2 * T3, 0, T3, T3), (2 * T3, T3, T3, T3), (2 * T3, 2 * T3, T3, T3)],
    "4-big-top": [(0, 0, 1, 2 * T3), (0, 2 * T3, T3, T3), (T3, 2 * T3, T3, T3), (2 * T3, 2 * T3, T3, T3)],
    "5-grid": [(0, 0, 0.5, 0.5), (0.5, 0, 0.5, 0.5), (0, 0.5, T3, 0.5), (T3, 0.5, T3, 0.5), (2 * T3, 0.5, T3, 0.5)],
    "5-big-left": [(0, 0, 0.5, 1), (0.5, 0, 0.25, 0.5), (0.75, 0, 0.25, 0.5), (0.5, 0.5, 0.25, 0.5),
                   (0.75, 0.5, 0.25, 0.5)],
    "5-big-center": [(0.25, 0.25, 0.5, 0.5), (0, 0, 0.5, 0.25), (0.5, 0, 0.5, 0.25), (0, 0.75, 0.5, 0.25),
                     (0.5, 0.75, 0.5, 0.25)],
    "6-grid": grid(3, 2),
    "6-grid-portrait": grid(2, 3),
    "6-big-top-left": [(0, 0, 2 * T3, 2 * T3), (2 * T3, 0, T3, T3), (2 * T3, T3, T3, T3), (0, 2 * T3, T3, T3),
                       (T3, 2 * T3, T3, T3), (2 * T3, 2 * T3, T3, T3)],
    "7-mosaic": [(0, 0, 0.5, 0.5), (0.5, 0, 0.5, 0.5), (0, 0.5, 0.25, 0.5), (0.25, 0.5, 0.25, 0.25),
                 (0.25, 0.75, 0.25, 0.25), (0.5, 0.5, 0.25, 0.5), (0.75, 0.5, 0.25, 0.5)],
    "8-grid": grid(4, 2),
    "9-grid": grid(3, 3),
    "12-grid": grid(4, 3),
    "16-grid": grid(4, 4),
}
AUTO_BY_COUNT = {1: "1-single", 2: "2-horizontal", 3: "3-big-left", 4: "4-grid", 5: "5-grid", 6: "6-grid",
                 7: "7-mosaic", 8: "8-grid", 9: "9-grid"}

Template = Literal[("auto", *TEMPLATES)]  # type: ignore[valid-type]


class CollageSettings(ToolSettings):
    template: Template = Field("auto", description="Layout; 'auto' picks one for the number of images")
    width: int = Field(1200, ge=100, le=8000, description="Canvas width in px")
    height: int = Field(1200, ge=100, le=8000, description="Canvas height in px")
    gap: int = Field(10, ge=0, le=200, description="Space between and around cells, px")
    background_color: str = Field("#ffffff", pattern=lay.HEX_PATTERN, description="Canvas colour (#rrggbbaa for alpha)")
    border_radius: int = Field(0, ge=0, le=500, description="Corner radius of each cell, px")
    format: Literal["png", "jpeg", "jpg", "webp"] = Field("png", description="Output format")
    quality: int = Field(90, ge=1, le=100, description="Quality for jpeg/webp")


def pick_template(name: str, count: int) -> list[Cell]:
    if name != "auto":
        return TEMPLATES[name]
    if count in AUTO_BY_COUNT:
        return TEMPLATES[AUTO_BY_COUNT[count]]
    cols = math.ceil(math.sqrt(count))
    return grid(cols, math.ceil(count / cols))[:count]


def cell_box(cell: Cell, width: int, height: int, gap: int) -> tuple[int, int, int, int]:
    x, y, w, h = cell
    left = round(x * (width - gap)) + gap
    top = round(y * (height - gap)) + gap
    right = round((x + w) * (width - gap))
    bottom = round((y + h) * (height - gap))
    if right - left < 4 or bottom - top < 4:
        raise bad_input(f"A gap of {gap} px leaves no room for the cells on a {width}×{height} canvas.")
    return left, top, right - left, bottom - top


@tool("collage", section=Section.IMAGE, settings=CollageSettings, inputs=(1, 64),
      accepts={"image", "svg"})
def run(call: ToolCall[CollageSettings]) -> ToolResult:
    """Arrange images in a collage template."""
    s = call.settings
    cells = pick_template(s.template, len(call.inputs))
    if len(call.inputs) > len(cells):
        raise bad_input(f"The template '{s.template}' has {len(cells)} cells but {len(call.inputs)} images were sent.")
    v.check_pixels(s.width, s.height, call.limits, "The collage")
    canvas = lay.solid(s.width, s.height, lay.rgba(s.background_color))
    boxes = []
    loaded: dict[int, object] = {}
    for index, cell in enumerate(cells):
        which = index % len(call.inputs)  # fewer images than cells: repeat them so no cell is empty
        left, top, w, h = cell_box(cell, s.width, s.height, s.gap)
        if which not in loaded:
            loaded[which] = lay.load_rgba(call.inputs[which], call.limits)[0]
        tile = v.run_vips("placed", lambda img=loaded[which], w=w, h=h: lay.round_corners(lay.cover(img, w, h),
                                                                                           s.border_radius))
        canvas = lay.paste(canvas, tile, left, top)
        boxes.append({"image": which, "left": left, "top": top, "width": w, "height": h})
    canvas = v.run_vips("composed", canvas.copy_memory)
    fmt = "jpeg" if s.format == "jpg" else s.format
    out = lay.save_as(canvas, call.workdir, "collage", fmt, s.quality)
    return ToolResult([out], {"template": s.template, "cells": boxes, "width": s.width, "height": s.height})
