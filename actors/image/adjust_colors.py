"""Adjust colors: exposure, brightness, contrast, channel offsets, temperature/tint, saturation, hue,
sharpness, and a final effect (grayscale, sepia, invert). All controls run in float, clipped once.

Ranges: every control is -100..100 (0 = unchanged) except hue (-180..180 degrees) and sharpness
(0..100). Exposure ±100 is ±2 EV; saturation scales CIE LCh chroma (−100 = grey); hue rotates LCh hue.
"""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

SEPIA = [[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]


def _control(description: str, low: float = -100, high: float = 100):
    return Field(0, ge=low, le=high, description=description)


class AdjustColorsSettings(ToolSettings):
    brightness: float = _control("Brightness, -100..100")
    contrast: float = _control("Contrast, -100..100")
    exposure: float = _control("Exposure, -100..100 (±2 EV)")
    saturation: float = _control("Saturation, -100 (grey)..100")
    temperature: float = _control("Colour temperature, -100 (cool)..100 (warm)")
    tint: float = _control("Tint, -100 (green)..100 (magenta)")
    hue: float = _control("Hue rotation in degrees", -180, 180)
    sharpness: float = _control("Sharpening amount, 0..100", 0, 100)
    red: float = _control("Red channel offset, -100..100")
    green: float = _control("Green channel offset, -100..100")
    blue: float = _control("Blue channel offset, -100..100")
    effect: Literal["none", "grayscale", "sepia", "invert"] = Field("none", description="Final effect")


def adjust(rgb: pyvips.Image, s: AdjustColorsSettings) -> pyvips.Image:
    x = rgb.cast("float")
    if s.exposure:
        x = x * (2 ** (s.exposure / 50))
    if s.brightness:
        x = x + s.brightness * 1.28
    if s.contrast:
        c = s.contrast * 2.55
        factor = (259 * (c + 255)) / (255 * (259 - c))
        x = (x - 128) * factor + 128
    offsets = [s.red * 1.28 + s.temperature * 0.5, s.green * 1.28 - s.tint * 0.5, s.blue * 1.28 - s.temperature * 0.5]
    if any(offsets):
        x = x + offsets
    if s.saturation or s.hue:
        lch = x.clamp(min=0, max=255).copy(interpretation="srgb").colourspace("lch")
        scale = [1, max(0.0, 1 + s.saturation / 100), 1]
        lch = lch * scale + [0, 0, s.hue]
        x = lch.colourspace("srgb")
    x = x.clamp(min=0, max=255)
    if s.sharpness:
        x = x.cast("uchar").copy(interpretation="srgb").sharpen(sigma=1.0, m2=s.sharpness / 100 * 8, x1=2)
        x = x.colourspace("srgb").cast("float")
    if s.effect == "grayscale":
        grey = x.copy(interpretation="srgb").colourspace("b-w")
        x = grey.bandjoin([grey, grey])
    elif s.effect == "sepia":
        x = x.recomb(pyvips.Image.new_from_array(SEPIA))
    elif s.effect == "invert":
        x = 255 - x
    return x


@tool("adjust-colors", section=Section.IMAGE, settings=AdjustColorsSettings, accepts={"image", "svg"})
def run(call: ToolCall[AdjustColorsSettings]) -> ToolResult:
    """Adjust brightness, contrast, colour balance and more."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    rgb, alpha = d.split_alpha(image)
    out_image = v.run_vips("adjusted", lambda: d.join_alpha(adjust(rgb, s), alpha))
    out = v.save(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height})
