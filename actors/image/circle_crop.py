"""Circle crop: a round cut-out with zoom, offset, optional ring border and background."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class CircleCropSettings(ToolSettings):
    zoom: float = Field(1, ge=1, le=5, description="Zoom into the centre (1 = the largest circle that fits)")
    offset_x: float = Field(0, ge=-100, le=100, description="Horizontal shift of the circle, % of the free room")
    offset_y: float = Field(0, ge=-100, le=100, description="Vertical shift of the circle, % of the free room")
    border_width: int = Field(0, ge=0, le=500, description="Ring thickness, px of the output")
    border_color: str = Field("#ffffff", pattern=lay.HEX_PATTERN, description="Ring colour")
    background: str = Field("transparent", pattern=r"^(transparent|" + lay.HEX_PATTERN[1:-1] + r")$",
                            description="'transparent' or a colour outside the circle")
    output_size: int | None = Field(None, ge=16, le=8192, description="Output width and height (default: the crop)")


@tool("circle-crop", section=Section.IMAGE, settings=CircleCropSettings, accepts={"image", "svg"})
def run(call: ToolCall[CircleCropSettings]) -> ToolResult:
    """Crop an image to a circle."""
    s = call.settings
    image, _ = lay.load_rgba(call.inputs[0], call.limits)
    diameter = max(1, int(min(image.width, image.height) / s.zoom))
    room_x, room_y = image.width - diameter, image.height - diameter
    left = round(room_x / 2 + room_x / 2 * s.offset_x / 100)
    top = round(room_y / 2 + room_y / 2 * s.offset_y / 100)
    size = s.output_size or diameter

    def build():
        square = image.crop(left, top, diameter, diameter)
        if size != diameter:
            square = v.resize_exact(square, size, size)
        canvas = lay.solid(size, size, lay.rgba(s.background))
        disc = lay.apply_mask(square, lay.ellipse_mask(size, size))
        if s.border_width:
            ring = lay.solid(size, size, lay.rgba(s.border_color))
            canvas = lay.paste(canvas, lay.apply_mask(ring, lay.ellipse_mask(size, size)), 0, 0)
            inner = max(1, size - 2 * s.border_width)
            disc = lay.apply_mask(v.resize_exact(square, inner, inner), lay.ellipse_mask(inner, inner))
            return lay.paste(canvas, disc, s.border_width, s.border_width).copy_memory()
        return lay.paste(canvas, disc, 0, 0).copy_memory()

    result = v.run_vips("cropped", build)
    out = v.save(result, call.workdir, f"{call.stem()}-circle", "png")
    return ToolResult([out], {"width": size, "height": size, "left": left, "top": top, "diameter": diameter})
