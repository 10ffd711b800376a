"""Text watermark: a line of text at a named position, rotated, faded, or tiled across the image."""

from __future__ import annotations

from typing import Any, Literal

import pyvips
from PIL import Image
from pydantic import Field, model_validator

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class WatermarkTextSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=500, description="Watermark text")
    font: str = Field("sans-bold", max_length=40, description="Font name (see the font list; e.g. sans, serif, "
                                                               "mono, roboto, anton, arial, times)")
    font_size: int = Field(48, ge=4, le=1000, description="Font size in px")
    color: str = Field("#ffffff", pattern=d.HEX, description="Text colour (hex)")
    opacity: float = Field(50, ge=0, le=100, description="Opacity in percent")
    position: Literal[(*d.POSITIONS, "tiled")] = Field(  # type: ignore[valid-type]
        "bottom-right", description="Where the text goes (ignored when tiled). \"tiled\" is the peer's way of "
                                    "saying tile: true; an explicit tile wins")
    rotation: float = Field(0, ge=-360, le=360, description="Rotation in degrees, counter-clockwise")
    tile: bool = Field(False, description="Repeat the text across the whole image")

    @model_validator(mode="before")
    @classmethod
    def _tiled_position(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("position") == "tiled":
            data = {k: v for k, v in data.items() if k != "position"}
            data.setdefault("tile", True)
        return data


def text_layer(text: str, font: str, size: int, color: str, opacity: float, rotation: float) -> Image.Image:
    layer = d.render_text(d.require_text(text), font, size, color, opacity)
    if rotation % 360:
        layer = layer.rotate(rotation, expand=True, resample=Image.BICUBIC)
    return layer


def apply(image: pyvips.Image, s: WatermarkTextSettings) -> pyvips.Image:
    layer = d.from_pil(text_layer(s.text, s.font, s.font_size, s.color, s.opacity / 100, s.rotation))
    if s.tile:
        gap_x, gap_y = max(layer.width // 2, s.font_size), max(layer.height, s.font_size * 2)
        cell = layer.embed(0, 0, layer.width + gap_x, layer.height + gap_y, extend="background", background=[0, 0, 0, 0])
        across = image.width // cell.width + 2
        down = image.height // cell.height + 2
        sheet = cell.replicate(across, down)
        # offset every other row would need a second pass; a half-cell shift of the whole sheet is enough
        return d.composite(image, sheet, -cell.width // 2, -cell.height // 2)
    margin = max(4, round(min(image.width, image.height) * 0.02))
    x, y = d.place(image.width, image.height, layer.width, layer.height, s.position, margin)
    return d.composite(image, layer, x, y)


@tool("watermark-text", section=Section.IMAGE, settings=WatermarkTextSettings,
      accepts={"image", "svg"})
def run(call: ToolCall[WatermarkTextSettings]) -> ToolResult:
    """Add a text watermark."""
    s = call.settings
    image, fmt = d.load_streaming(call.inputs[0], call.limits)
    out_image = v.run_vips("watermarked", apply, image, s)
    out = d.save_streamed(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height})
