"""Convert a presentation between pptx and odp (warm LibreOffice)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.documents import _office
from protocols.tools import Family, Mode, Section, ToolCall, ToolResult, ToolSettings, tool

FILTERS = {"pptx": "Impress MS PowerPoint 2007 XML", "odp": "impress8"}


class ConvertPresentationSettings(ToolSettings):
    format: Literal["pptx", "odp"] = Field("pptx", description="Output format")


@tool("convert-presentation", section=Section.PDF, family=Family.DOCUMENTS, settings=ConvertPresentationSettings,
      mode=Mode.LONG, accepts={"office"}, in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Convert a presentation (pptx, ppt, odp) to pptx or odp."""
    fmt = call.settings.format  # type: ignore[attr-defined]
    out = await _office.convert(call, "presentation", fmt, filtername=FILTERS[fmt])
    return ToolResult([out], {"format": fmt})
