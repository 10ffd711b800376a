"""Rotate pages by 90/180/270 degrees: all of them, a qpdf page range, or each page by its own angle."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from actors.common import pdfs
from protocols.errors import bad_input
from protocols.fields import page_list
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

Angle = Literal[90, 180, 270]
MAX_PAGE_ANGLES = 10_000


class RotateSettings(ToolSettings):
    angle: Angle = Field(90, description="Clockwise rotation in degrees")
    range: str | None = Field(None, max_length=2000, description="Pages to rotate (qpdf syntax); all when empty",
                              json_schema_extra=page_list("select"))
    page_angles: dict[Annotated[int, Field(ge=1)], Angle] | None = Field(
        None, max_length=MAX_PAGE_ANGLES, json_schema_extra=page_list("rotate"),
        description="Each page's own clockwise rotation, {page number: 90 | 180 | 270} (e.g. {\"2\": 180, "
                    "\"5\": 90}); when given, it replaces angle and range")

    @model_validator(mode="after")
    def _one_way(self) -> RotateSettings:
        if self.page_angles and self.range and self.range.strip():
            raise ValueError("Give either range (with angle) or pageAngles, not both.")
        return self


@tool("rotate-pdf", section=Section.PDF, settings=RotateSettings, accepts={"pdf"})
def run(call: ToolCall[RotateSettings]) -> ToolResult:
    """Rotate PDF pages."""
    s = call.settings
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        count = len(pdf.pages)
        if s.page_angles:
            beyond = sorted(p for p in s.page_angles if p > count)
            if beyond:
                raise bad_input(f"pageAngles names page {beyond[0]}, but the PDF has {count} pages.")
            turns = dict(sorted(s.page_angles.items()))
        else:
            pages = sorted(set(pdfs.parse_pages(s.range, count))) if s.range and s.range.strip() else range(1, count + 1)
            turns = dict.fromkeys(pages, s.angle)
        for number, angle in turns.items():
            pdf.pages[number - 1].rotate(angle, relative=True)
        out = pdfs.save(pdf, pdfs.out_path(call))
    return ToolResult([out], {"rotatedPages": len(turns)})
