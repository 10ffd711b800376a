"""Text overlay: text at an exact spot, optionally on a padded, rounded background box."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from actors.image import _fonts
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class TextOverlaySettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=2000, description="Text to draw (newlines allowed)")
    font: str = Field("sans-bold", max_length=40, description="Font name (e.g. sans, serif, mono, roboto, anton)")
    font_size: int = Field(48, ge=4, le=1000, description="Font size in px")
    color: str = Field("#ffffff", pattern=d.HEX, description="Text colour (hex)")
    x: int | None = Field(None, ge=-65535, le=65535, description="Left of the box in px (default: centred)")
    y: int | None = Field(None, ge=-65535, le=65535, description="Top of the box in px (default: centred)")
    background: str | None = Field(None, pattern=d.HEX, description="Box colour (hex, #rrggbbaa for "
                                                                      "translucency); none = no box")
    padding: int = Field(16, ge=0, le=1000, description="Space between the text and the box edge in px")
    border_radius: int = Field(0, ge=0, le=1000, description="Corner radius of the box in px")


@tool("text-overlay", section=Section.IMAGE, settings=TextOverlaySettings, accepts={"image", "svg"})
def run(call: ToolCall[TextOverlaySettings]) -> ToolResult:
    """Draw text on an image, with an optional background box."""
    s = call.settings
    image, fmt = d.load_streaming(call.inputs[0], call.limits)
    font = _fonts.load(s.font, s.font_size)
    text = d.text_block(d.require_text(s.text), font, d.rgba(s.color))
    pad = s.padding if s.background else 0
    width, height = text.width + 2 * pad, text.height + 2 * pad
    if s.background:
        box = d.rounded_box(width, height, min(s.border_radius, width // 2, height // 2), d.rgba(s.background))
        box.alpha_composite(text, (pad, pad))
    else:
        box = text
    x = s.x if s.x is not None else (image.width - width) // 2
    y = s.y if s.y is not None else (image.height - height) // 2
    out_image = v.run_vips("drawn", d.composite, image, d.from_pil(box), x, y)
    out = d.save_streamed(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height,
                              "box": {"left": x, "top": y, "width": width, "height": height}})
