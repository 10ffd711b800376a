"""Crop: a rectangle in pixels or percent of the (EXIF-upright) image."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class CropSettings(ToolSettings):
    left: float = Field(0, ge=0, description="Left edge (px or %)")
    top: float = Field(0, ge=0, description="Top edge (px or %)")
    width: float = Field(..., gt=0, description="Width of the area (px or %)")
    height: float = Field(..., gt=0, description="Height of the area (px or %)")
    unit: Literal["px", "percent"] = Field("px", description="Unit of the four values")


def crop_box(w: int, h: int, s: CropSettings) -> tuple[int, int, int, int]:
    if s.unit == "percent":
        if s.left > 100 or s.top > 100 or s.width > 100 or s.height > 100:
            raise bad_input("Percent values must be between 0 and 100.")
        left, top = round(w * s.left / 100), round(h * s.top / 100)
        cw, ch = max(1, round(w * s.width / 100)), max(1, round(h * s.height / 100))
    else:
        left, top, cw, ch = round(s.left), round(s.top), max(1, round(s.width)), max(1, round(s.height))
    if left >= w or top >= h:
        raise bad_input(f"The crop area starts outside the {w}×{h} image.")
    if left + cw > w or top + ch > h:
        raise bad_input(f"The crop area {cw}×{ch} at ({left},{top}) extends past the {w}×{h} image.")
    return left, top, cw, ch


@tool("crop", section=Section.IMAGE, settings=CropSettings, accepts={"image", "svg"})
def run(call: ToolCall[CropSettings]) -> ToolResult:
    """Crop a rectangle out of an image."""
    s = call.settings
    header, fmt = v.open_image(call.inputs[0], call.limits)
    w, h = v.upright_size(header)
    left, top, cw, ch = crop_box(w, h, s)
    image = v.run_vips("cropped", lambda: header.autorot().crop(left, top, cw, ch))
    out = v.save(image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": cw, "height": ch})
