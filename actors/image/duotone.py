"""Duotone: map each pixel's luminance onto a gradient from the shadow colour to the highlight colour,
then mix with the original by `intensity`."""

from __future__ import annotations

from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class DuotoneSettings(ToolSettings):
    shadow: str = Field("#1e3a8a", pattern=d.HEX, description="Colour of the darkest tones (hex)")
    highlight: str = Field("#fbbf24", pattern=d.HEX, description="Colour of the lightest tones (hex)")
    intensity: float = Field(100, ge=0, le=100, description="How much of the duotone to apply, in percent")


@tool("duotone", section=Section.IMAGE, settings=DuotoneSettings, accepts={"image", "svg"})
def run(call: ToolCall[DuotoneSettings]) -> ToolResult:
    """Recolour an image with two colours."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    rgb, alpha = d.split_alpha(image)

    def build():
        lum = rgb.colourspace("b-w").cast("float") / 255
        dark = list(d.rgba(s.shadow)[:3])
        light = list(d.rgba(s.highlight)[:3])
        toned = lum * [b - a for a, b in zip(dark, light, strict=True)] + dark
        k = s.intensity / 100
        return d.join_alpha(toned * k + rgb.cast("float") * (1 - k) + 0.5, alpha)

    out_image = v.run_vips("toned", build)
    out = v.save(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height})
