"""Border & frame: solid, gradient or patterned border, inner padding, rounded corners, drop shadow."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class BorderSettings(ToolSettings):
    # AliasChoices: the reference's name first (it wins when both are sent), then the peer's current names
    width: int = Field(20, ge=0, le=1000, validation_alias=AliasChoices("width", "size", "borderWidth"),
                       description="Border thickness, px (aliases: size, borderWidth)")
    color: str = Field("#000000", pattern=lay.HEX_PATTERN, validation_alias=AliasChoices("color", "borderColor"),
                       description="Border colour, the first gradient/pattern colour (alias: borderColor)")
    style: Literal["solid", "gradient", "pattern"] = Field("solid", description="How the border is filled")
    color2: str = Field("#ffffff", pattern=lay.HEX_PATTERN, description="Second colour (gradient end / pattern)")
    gradient_angle: float = Field(135, ge=0, le=360, description="Gradient direction, degrees (CSS)")
    pattern: Literal["stripes", "checker", "dots"] = Field("stripes", description="Pattern (pattern style)")
    pattern_size: int = Field(12, ge=2, le=200, description="Pattern cell size, px")
    border_radius: int = Field(0, ge=0, le=2000,
                               validation_alias=AliasChoices("borderRadius", "border_radius", "cornerRadius"),
                               description="Outer corner radius, px (alias: cornerRadius)")
    padding: int = Field(0, ge=0, le=1000, description="Space between the image and the border, px")
    padding_color: str = Field("#ffffff", pattern=lay.HEX_PATTERN, description="Colour of the padding")
    shadow: bool = Field(False, description="Drop shadow under the framed image")
    shadow_blur: int = Field(20, ge=0, le=200, description="Shadow blur, px")
    shadow_color: str = Field("#00000080", pattern=lay.HEX_PATTERN, description="Shadow colour (with alpha)")
    shadow_offset_x: int = Field(0, ge=-500, le=500, description="Shadow offset x, px")
    shadow_offset_y: int = Field(10, ge=-500, le=500, description="Shadow offset y, px")


def pattern_fill(width: int, height: int, kind: str, size: int, a: list[int], b: list[int]):
    ca, cb = lay.css(a), lay.css(b)
    if kind == "stripes":
        tile = (f'<pattern id="p" width="{size * 2}" height="{size * 2}" patternUnits="userSpaceOnUse" '
                f'patternTransform="rotate(45)"><rect width="{size * 2}" height="{size * 2}" fill="{cb}"/>'
                f'<rect width="{size}" height="{size * 2}" fill="{ca}"/></pattern>')
    elif kind == "checker":
        tile = (f'<pattern id="p" width="{size * 2}" height="{size * 2}" patternUnits="userSpaceOnUse">'
                f'<rect width="{size * 2}" height="{size * 2}" fill="{cb}"/><rect width="{size}" height="{size}" '
                f'fill="{ca}"/><rect x="{size}" y="{size}" width="{size}" height="{size}" fill="{ca}"/></pattern>')
    else:
        tile = (f'<pattern id="p" width="{size * 2}" height="{size * 2}" patternUnits="userSpaceOnUse">'
                f'<rect width="{size * 2}" height="{size * 2}" fill="{cb}"/><circle cx="{size}" cy="{size}" '
                f'r="{size * 0.6:.2f}" fill="{ca}"/></pattern>')
    body = f'<rect width="{width}" height="{height}" fill="url(#p)"/>'
    return lay.render_svg(lay.svg_doc(width, height, body, tile), width, height)


@tool("border", section=Section.IMAGE, settings=BorderSettings, accepts={"image", "svg"})
def run(call: ToolCall[BorderSettings]) -> ToolResult:
    """Add a border or frame around an image."""
    s = call.settings
    image, src = lay.load_rgba(call.inputs[0], call.limits)
    inner = image
    if s.padding:
        pad = lay.solid(image.width + 2 * s.padding, image.height + 2 * s.padding, lay.rgba(s.padding_color))
        inner = lay.paste(pad, image, s.padding, s.padding)
    w, h = inner.width + 2 * s.width, inner.height + 2 * s.width
    v.check_pixels(w, h, call.limits, "The framed image")
    a, b = lay.rgba(s.color), lay.rgba(s.color2)

    def frame():
        if s.style == "solid":
            fill = lay.solid(w, h, a)
        elif s.style == "gradient":
            fill = lay.linear_gradient(w, h, [(0, a), (1, b)], s.gradient_angle)
        else:
            fill = pattern_fill(w, h, s.pattern, s.pattern_size, a, b)
        framed = lay.paste(fill, inner, s.width, s.width)
        return lay.round_corners(framed, s.border_radius) if s.border_radius else framed

    framed = v.run_vips("framed", frame)
    transparent = s.border_radius > 0 or s.shadow or a[3] < 255 or image.hasalpha() and src != "jpeg"
    if s.shadow:
        color = lay.rgba(s.shadow_color)
        spread = s.shadow_blur * 2 + max(abs(s.shadow_offset_x), abs(s.shadow_offset_y))
        shade = v.run_vips("shadowed", lay.shadow, framed[3], s.shadow_blur, color, 1.0, spread)
        canvas = lay.solid(shade.width, shade.height, [0, 0, 0, 0])
        canvas = lay.paste(canvas, shade, s.shadow_offset_x, s.shadow_offset_y)
        framed = lay.paste(canvas, framed, spread, spread)
    framed = v.run_vips("framed", framed.copy_memory)
    fmt = "png" if transparent or src not in ("jpeg", "webp") else src
    if fmt == "jpeg":
        framed = framed[:3]
    out = v.save(framed, call.workdir, f"{call.stem()}-border", fmt)
    return ToolResult([out], {"width": framed.width, "height": framed.height})
