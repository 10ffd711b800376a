"""Crop a margin (in points) off every side of every page (CropBox and MediaBox both tightened)."""

from __future__ import annotations

import pikepdf
from pydantic import Field

from actors.common import pdfs
from protocols.errors import bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class CropSettings(ToolSettings):
    margin: float = Field(36, ge=0, le=2000, description="Points to cut off each side (72 points = 1 inch)")


@tool("crop-pdf", section=Section.PDF, settings=CropSettings, accepts={"pdf"})
def run(call: ToolCall[CropSettings]) -> ToolResult:
    """Crop the margins of a PDF."""
    m: float = call.settings.margin
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            box = [float(v) for v in page.cropbox]
            x0, y0, x1, y1 = min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])
            if x1 - x0 - 2 * m < 1 or y1 - y0 - 2 * m < 1:
                raise bad_input(f"A margin of {m:g} points is larger than page {number} "
                                f"({x1 - x0:.0f}×{y1 - y0:.0f} points).")
            new = pikepdf.Array([x0 + m, y0 + m, x1 - m, y1 - m])
            page.obj.MediaBox = new
            page.obj.CropBox = new
            for key in ("/TrimBox", "/BleedBox", "/ArtBox"):
                if key in page.obj:
                    del page.obj[key]
        out = pdfs.save(pdf, pdfs.out_path(call))
    return ToolResult([out])
