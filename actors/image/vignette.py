"""Vignette: darken (or tint) towards the edges with a smooth elliptical-to-circular falloff.

Distances are normalised so that a corner of a centred image is at 1.0 whatever the roundness:
`radius` (0..100 % of that) is where the fade starts, `softness` (0..100 %) how long it takes,
`roundness` 0 follows the image's aspect (an ellipse), 100 is a circle; centerX/centerY in percent.
"""

from __future__ import annotations

import math

import pyvips
from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class VignetteSettings(ToolSettings):
    strength: float = Field(0.5, ge=0.1, le=1, description="Darkness at the edges (0.1..1)")
    color: str = Field("#000000", pattern=d.HEX, description="Vignette colour (hex)")
    radius: float = Field(50, ge=0, le=100, description="Where the fade starts, in percent of the corner distance")
    softness: float = Field(50, ge=0, le=100, description="Length of the fade, in percent")
    roundness: float = Field(0, ge=0, le=100, description="0 = ellipse following the image, 100 = circle")
    center_x: float = Field(50, ge=0, le=100, description="Centre, percent of width")
    center_y: float = Field(50, ge=0, le=100, description="Centre, percent of height")


def mask(width: int, height: int, s: VignetteSettings) -> pyvips.Image:
    """0 in the clear middle .. strength at the edges (float, one band)."""
    xy = pyvips.Image.xyz(width, height).cast("float")
    cx, cy = width * s.center_x / 100, height * s.center_y / 100
    r = s.roundness / 100
    circle = math.hypot(width / 2, height / 2)
    sx = (width / 2) * (1 - r) + circle * r
    sy = (height / 2) * (1 - r) + circle * r
    dist = ((((xy[0] - cx) / sx) ** 2 + ((xy[1] - cy) / sy) ** 2) / 2) ** 0.5
    start = s.radius / 100
    span = max(0.01, s.softness / 100)
    return d.smoothstep((dist - start) / span) * s.strength


@tool("vignette", section=Section.IMAGE, settings=VignetteSettings, accepts={"image", "svg"})
def run(call: ToolCall[VignetteSettings]) -> ToolResult:
    """Add a vignette."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    rgb, alpha = d.split_alpha(image)

    def build():
        m = mask(rgb.width, rgb.height, s)
        colour = list(d.rgba(s.color)[:3])
        return d.join_alpha(rgb.cast("float") * (1 - m) + m * colour + 0.5, alpha)

    out_image = v.run_vips("vignetted", build)
    out = v.save(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height})
