"""Text watermark on every page: position (or tiled), font size, colour, opacity and rotation.

The text is real PDF text drawn in an embedded Unicode font, stamped over the page content."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator
from reportlab.pdfgen import canvas

from actors.common import pdfs
from actors.documents import _layout
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

Position = Literal["top-left", "top-center", "top-right", "center-left", "center", "center-right",
                   "bottom-left", "bottom-center", "bottom-right", "tile"]
EDGE = 36  # points between the text and the page edge


class WatermarkPdfSettings(ToolSettings):
    text: str = Field(..., min_length=1, max_length=500, description="Watermark text")
    position: Position = Field("center", description="Where the text goes; 'tile' repeats it over the page")
    font_size: float = Field(48, ge=4, le=400, description="Font size in points")
    opacity: float = Field(30, ge=0, le=100, description="Opacity in percent")
    rotation: float = Field(45, ge=-360, le=360, description="Rotation in degrees, counter-clockwise")
    color: str = Field("#808080", pattern=r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", description="Text colour (hex)")

    @field_validator("text")
    @classmethod
    def _one_line(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("the text is blank")
        return value


def anchor(position: str, w: float, h: float, box_w: float, box_h: float) -> tuple[float, float]:
    """Centre of the rotated text's bounding box for a named position."""
    horizontal = position.split("-")[-1] if "-" in position else "center"
    vertical = position.split("-")[0] if "-" in position else "center"
    x = {"left": EDGE + box_w / 2, "center": w / 2, "right": w - EDGE - box_w / 2}[horizontal]
    y = {"top": h - EDGE - box_h / 2, "center": h / 2, "bottom": EDGE + box_h / 2}[vertical]
    return x, y


def draw(c: canvas.Canvas, s: WatermarkPdfSettings, w: float, h: float) -> None:
    font = _layout.font_name()
    c.setFont(font, s.font_size)
    c.setFillColorRGB(*_layout.hex_rgb(s.color))
    c.setFillAlpha(s.opacity / 100)
    text_w = c.stringWidth(s.text, font, s.font_size)
    text_h = s.font_size * 0.72  # cap height, roughly
    rad = math.radians(s.rotation)
    box_w = abs(text_w * math.cos(rad)) + abs(text_h * math.sin(rad))
    box_h = abs(text_w * math.sin(rad)) + abs(text_h * math.cos(rad))
    if s.position == "tile":
        step_x, step_y = box_w + s.font_size * 2, box_h + s.font_size * 2
        points = [(x, y) for x in _steps(w, step_x) for y in _steps(h, step_y)]
    else:
        points = [anchor(s.position, w, h, box_w, box_h)]
    for x, y in points:
        c.saveState()
        c.translate(x, y)
        c.rotate(s.rotation)
        c.drawCentredString(0, -text_h / 2, s.text)
        c.restoreState()


def _steps(length: float, step: float) -> list[float]:
    count = max(1, min(200, math.ceil(length / step)))
    start = (length - (count - 1) * step) / 2
    return [start + i * step for i in range(count)]


@tool("watermark-pdf", section=Section.PDF, settings=WatermarkPdfSettings,
      accepts={"pdf"})
def run(call: ToolCall[WatermarkPdfSettings]) -> ToolResult:
    """Add a text watermark to every page."""
    s = call.settings
    overlay = call.workdir / "_watermark.pdf"
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        c = canvas.Canvas(str(overlay))
        for page in pdf.pages:
            w, h = _layout.begin_overlay_page(c, page)
            draw(c, s, w, h)
            c.showPage()
        c.save()
        _layout.overlay_pages(pdf, overlay)
        out = pdfs.save(pdf, pdfs.out_path(call, "_watermarked"))
    overlay.unlink(missing_ok=True)
    return ToolResult([out])
