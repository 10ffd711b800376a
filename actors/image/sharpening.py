"""Sharpening: adaptive (libvips' LAB-space sharpen), unsharp mask or high-pass, after optional denoising.

- adaptive: libvips `sharpen` (sigma, x1 flat/jaggy threshold, y2/y3 brightening/darkening limits,
  m1 flat-area and m2 jaggy-area slopes), applied to L* only, so colours do not fringe. m1 is 1 by default
  (sharp's default): at 0, detail gentler than x1 (most of a soft photo) would not be sharpened at all.
- unsharp-mask: out = in + amount·(in − gaussian(in, radius)) where |in − blur| > threshold.
- high-pass: out = in + strength·highpass(in), with a 3×3 or 5×5 Laplacian-style kernel.
- denoise first: light = 3×3 median, medium = 3×3 median + gaussian σ 0.7, strong = 5×5 median.
"""

from __future__ import annotations

from typing import Literal

import pyvips
from pydantic import Field

from actors.common import imageio as v
from actors.image import _draw as d
from protocols.fields import when
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

# which method each field belongs to: the form shows a field only with its method
ADAPTIVE = when("method", "adaptive")
UNSHARP = when("method", "unsharp-mask")
HIGH_PASS = when("method", "high-pass")


class SharpeningSettings(ToolSettings):
    method: Literal["adaptive", "unsharp-mask", "high-pass"] = Field("adaptive", description="Algorithm")
    sigma: float = Field(1.0, ge=0.1, le=10, description="adaptive: gaussian sigma of the mask", json_schema_extra=ADAPTIVE)
    m1: float = Field(1.0, ge=0, le=100, description="adaptive: slope for flat areas (gentle detail; 0 leaves it unsharpened)",
                      json_schema_extra=ADAPTIVE)
    m2: float = Field(3.0, ge=0, le=100, description="adaptive: slope for jaggy areas", json_schema_extra=ADAPTIVE)
    x1: float = Field(2.0, ge=0, le=100, description="adaptive: threshold between flat and jaggy", json_schema_extra=ADAPTIVE)
    y2: float = Field(10.0, ge=0, le=100, description="adaptive: maximum brightening", json_schema_extra=ADAPTIVE)
    y3: float = Field(20.0, ge=0, le=100, description="adaptive: maximum darkening", json_schema_extra=ADAPTIVE)
    amount: float = Field(100, ge=0, le=500, description="unsharp-mask: strength in percent", json_schema_extra=UNSHARP)
    radius: float = Field(1.0, ge=0.1, le=100, description="unsharp-mask: blur radius (sigma) in px", json_schema_extra=UNSHARP)
    threshold: float = Field(0, ge=0, le=255, description="unsharp-mask: minimum difference to sharpen", json_schema_extra=UNSHARP)
    strength: float = Field(50, ge=0, le=100, description="high-pass: strength in percent", json_schema_extra=HIGH_PASS)
    kernel_size: Literal[3, 5] = Field(3, description="high-pass: kernel size", json_schema_extra=HIGH_PASS)
    denoise: Literal["off", "light", "medium", "strong"] = Field("off", description="Denoise before sharpening")


def denoise(rgb: pyvips.Image, level: str) -> pyvips.Image:
    if level == "light":
        return rgb.median(3)
    if level == "medium":
        return rgb.median(3).gaussblur(0.7).cast("uchar")
    if level == "strong":
        return rgb.median(5)
    return rgb


def highpass_kernel(size: int) -> pyvips.Image:
    n = size * size
    rows = [[-1.0] * size for _ in range(size)]
    rows[size // 2][size // 2] = n - 1.0
    return pyvips.Image.new_from_array(rows, scale=n - 1.0)


def sharpen(rgb: pyvips.Image, s: SharpeningSettings) -> pyvips.Image:
    rgb = denoise(rgb, s.denoise)
    if s.method == "adaptive":
        out = rgb.sharpen(sigma=s.sigma, x1=s.x1, y2=s.y2, y3=s.y3, m1=s.m1, m2=s.m2)
        return out.colourspace("srgb").cast("float")
    x = rgb.cast("float")
    if s.method == "unsharp-mask":
        detail = x - rgb.gaussblur(s.radius, precision="float")
        if s.threshold:
            detail = (detail.abs() > s.threshold).ifthenelse(detail, 0)
        return x + detail * (s.amount / 100)
    detail = x.conv(highpass_kernel(s.kernel_size), precision="float")
    return x + detail * (s.strength / 100 * 4)


@tool("sharpening", section=Section.IMAGE, settings=SharpeningSettings, accepts={"image", "svg"})
def run(call: ToolCall[SharpeningSettings]) -> ToolResult:
    """Sharpen an image (adaptive, unsharp mask or high-pass), optionally denoising first."""
    s = call.settings
    image, fmt = v.load_upright(call.inputs[0], call.limits)
    rgb, alpha = d.split_alpha(image)
    out_image = v.run_vips("sharpened", lambda: d.join_alpha(sharpen(rgb, s), alpha))
    out = v.save(out_image, call.workdir, call.stem(), fmt)
    return ToolResult([out], {"width": out_image.width, "height": out_image.height})
