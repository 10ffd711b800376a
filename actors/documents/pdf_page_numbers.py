"""Page numbers drawn on every page at one of six positions, in an embedded font."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from reportlab.pdfgen import canvas

from actors.common import pdfs
from actors.documents import _layout
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

EDGE = 28  # points from the page edge to the text


class PageNumberSettings(ToolSettings):
    position: Literal["bl", "bc", "br", "tl", "tc", "tr"] = Field(
        "bc", description="bl/bc/br = bottom left/centre/right, tl/tc/tr = top")
    font_size: float = Field(12, ge=4, le=144, description="Font size in points")
    start_number: int = Field(1, ge=0, le=1_000_000, description="Number of the first page")
    text_format: str = Field("{n}", min_length=1, max_length=100,
                             description="Label template: {n} = page number, {total} = page count "
                                         "(e.g. 'Page {n} of {total}')")
    color: str = Field("#000000", pattern=r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", description="Text colour (hex)")


def label(template: str, n: int, total: int) -> str:
    return template.replace("{n}", str(n)).replace("{total}", str(total))


@tool("pdf-page-numbers", section=Section.PDF, settings=PageNumberSettings,
      accepts={"pdf"})
def run(call: ToolCall[PageNumberSettings]) -> ToolResult:
    """Number the pages of a PDF."""
    s = call.settings
    overlay = call.workdir / "_numbers.pdf"
    font = _layout.font_name()
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        count = len(pdf.pages)
        total = s.start_number + count - 1
        c = canvas.Canvas(str(overlay))
        for index, page in enumerate(pdf.pages):
            w, h = _layout.begin_overlay_page(c, page)
            c.setFont(font, s.font_size)
            c.setFillColorRGB(*_layout.hex_rgb(s.color))
            text = label(s.text_format, s.start_number + index, total)
            y = EDGE if s.position[0] == "b" else h - EDGE - s.font_size * 0.72
            if s.position[1] == "l":
                c.drawString(EDGE, y, text)
            elif s.position[1] == "r":
                c.drawRightString(w - EDGE, y, text)
            else:
                c.drawCentredString(w / 2, y, text)
            c.showPage()
        c.save()
        _layout.overlay_pages(pdf, overlay)
        out = pdfs.save(pdf, pdfs.out_path(call, "_numbered"))
    overlay.unlink(missing_ok=True)
    return ToolResult([out], {"pages": count})
