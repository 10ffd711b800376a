"""QR code generator (segno): colours, margin, error correction, dot and corner styles, optional logo."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class QrGenerateSettings(ToolSettings):
    # AliasChoices: the reference's name first (it wins when both are sent), then the peer's current name
    data: str = Field(..., min_length=1, max_length=2953, validation_alias=AliasChoices("data", "text"),
                      description="Text or URL to encode (alias: text)")
    size: int = Field(512, ge=64, le=4096, description="Output width and height in px")
    margin: int = Field(4, ge=0, le=20, description="Quiet zone, in modules")
    color_dark: str = Field("#000000", pattern=lay.HEX_PATTERN,
                            validation_alias=AliasChoices("colorDark", "color_dark", "foreground"),
                            description="Module colour (alias: foreground)")
    color_light: str = Field("#ffffff", pattern=lay.HEX_PATTERN,
                             validation_alias=AliasChoices("colorLight", "color_light", "background"),
                             description="Background colour, #rrggbbaa for alpha (alias: background)")
    error_correction_level: Literal["L", "M", "Q", "H"] = Field(
        "M", validation_alias=AliasChoices("errorCorrectionLevel", "error_correction_level", "errorCorrection"),
        description="Error correction, H with a logo (alias: errorCorrection)")
    dot_style: Literal["square", "rounded", "dots", "classy"] = Field("square", description="Shape of data modules")
    corner_style: Literal["square", "rounded", "dots", "extra-rounded"] = Field(
        "square", description="Shape of the three finder patterns")
    logo_size: float = Field(0.22, ge=0.05, le=0.3, description="Logo width as a fraction of the code")
    format: Literal["png", "webp", "jpeg", "jpg"] = Field("png", description="Output format")


def _finder_origins(n: int) -> list[tuple[int, int]]:
    return [(0, 0), (n - 7, 0), (0, n - 7)]


def _in_finder(x: int, y: int, n: int) -> bool:
    return any(ox <= x < ox + 7 and oy <= y < oy + 7 for ox, oy in _finder_origins(n))


def draw_qr(matrix: list[list[int]], s: QrGenerateSettings, logo=None):
    from PIL import Image, ImageDraw

    n = len(matrix)
    total = n + 2 * s.margin
    module = max(8, -(-s.size * 2 // total))  # supersample, then scale down
    side = total * module
    dark = tuple(lay.rgba(s.color_dark))
    light = tuple(lay.rgba(s.color_light))
    canvas = Image.new("RGBA", (side, side), light)
    draw = ImageDraw.Draw(canvas)
    off = s.margin * module

    def box(x, y, w=1, h=1, inset=0.0):
        return [off + x * module + inset, off + y * module + inset,
                off + (x + w) * module - 1 - inset, off + (y + h) * module - 1 - inset]

    for y, row in enumerate(matrix):
        for x, bit in enumerate(row):
            if not bit or _in_finder(x, y, n):
                continue
            if s.dot_style == "square":
                draw.rectangle(box(x, y), fill=dark)
            elif s.dot_style == "dots":
                draw.ellipse(box(x, y, inset=module * 0.08), fill=dark)
            elif s.dot_style == "rounded":
                draw.rounded_rectangle(box(x, y), radius=module * 0.35, fill=dark)
            else:  # classy: rounded on two opposite corners
                draw.rounded_rectangle(box(x, y), radius=module * 0.45, fill=dark,
                                       corners=(True, False, True, False))
    for ox, oy in _finder_origins(n):
        for size, inset, colour in ((7, 0, dark), (5, 1, light), (3, 2, dark)):
            rect = box(ox + inset, oy + inset, size, size)
            if s.corner_style == "square":
                draw.rectangle(rect, fill=colour)
            elif s.corner_style == "dots":
                draw.ellipse(rect, fill=colour)
            else:
                ratio = 0.25 if s.corner_style == "rounded" else 0.45
                draw.rounded_rectangle(rect, radius=size * module * ratio, fill=colour)
    if logo is not None:
        target = int(n * module * s.logo_size)
        logo.thumbnail((target, target), Image.LANCZOS)
        pad = max(2, module // 2)
        lx = (side - logo.width) // 2
        ly = (side - logo.height) // 2
        backing = (255, 255, 255, 255) if light[3] < 128 else light
        draw.rounded_rectangle([lx - pad, ly - pad, lx + logo.width + pad, ly + logo.height + pad],
                               radius=pad, fill=backing)
        canvas.alpha_composite(logo.convert("RGBA"), (lx, ly))
    return canvas.resize((s.size, s.size), Image.LANCZOS)


@tool("qr-generate", section=Section.IMAGE, settings=QrGenerateSettings, inputs=(0, 1),
      roles=("logo",), accepts={"image", "svg"}, body="either", pipeline=False)
def run(call: ToolCall[QrGenerateSettings]) -> ToolResult:
    """Generate a styled QR code, optionally with a logo in the middle."""
    import segno

    s = call.settings
    logo = None
    level = s.error_correction_level
    if call.inputs:
        logo_image, _ = lay.load_rgba(call.inputs[0], call.limits)
        logo_image = v.run_vips("read", lambda: logo_image.thumbnail_image(1024, height=1024))
        logo = lay.to_pil(logo_image)
        level = "H"  # the logo hides modules: use the strongest correction
    try:
        qr = segno.make(s.data, error=level.lower(), micro=False, boost_error=not call.inputs)
    except (ValueError, segno.DataOverflowError):
        raise bad_input("The data is too long for a QR code at this error-correction level.") from None
    matrix = [list(row) for row in qr.matrix]
    pil = draw_qr(matrix, s, logo)
    image = lay.from_pil(pil if lay.rgba(s.color_light)[3] < 255 else pil.convert("RGB"))
    fmt = "jpeg" if s.format == "jpg" else s.format
    out = v.save(image, call.workdir, "qr-code", fmt)
    return ToolResult([out], {"version": qr.version, "modules": len(matrix), "errorCorrectionLevel": qr.error,
                              "width": s.size, "height": s.size})
