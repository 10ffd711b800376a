"""Rotate pages by 90/180/270 degrees, all of them or a qpdf page range."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import pdfs
from protocols.fields import page_list
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class RotateSettings(ToolSettings):
    angle: Literal[90, 180, 270] = Field(90, description="Clockwise rotation in degrees")
    range: str | None = Field(None, max_length=2000, description="Pages to rotate (qpdf syntax); all when empty",
                              json_schema_extra=page_list("select"))


@tool("rotate-pdf", section=Section.PDF, settings=RotateSettings, accepts={"pdf"})
def run(call: ToolCall[RotateSettings]) -> ToolResult:
    """Rotate PDF pages."""
    s = call.settings
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        count = len(pdf.pages)
        pages = sorted(set(pdfs.parse_pages(s.range, count))) if s.range and s.range.strip() else range(1, count + 1)
        for number in pages:
            pdf.pages[number - 1].rotate(s.angle, relative=True)
        out = pdfs.save(pdf, pdfs.out_path(call))
    return ToolResult([out], {"rotatedPages": len(pages)})
