"""Convert a presentation between pptx and odp (warm LibreOffice)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.documents import _office
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

FILTERS = {"pptx": "Impress MS PowerPoint 2007 XML", "odp": "impress8"}


class ConvertPresentationSettings(ToolSettings):
    format: Literal["pptx", "odp"] = Field("pptx", description="Output format")


@tool("convert-presentation", section=Section.PDF, settings=ConvertPresentationSettings,
      mode=Mode.LONG, accepts={"office"}, runs=Runs.LOOP)
async def run(call: ToolCall[ConvertPresentationSettings]) -> ToolResult:
    """Convert a presentation (pptx, ppt, odp) to pptx or odp."""
    fmt = call.settings.format
    out = await _office.convert(call, "presentation", fmt, filtername=FILTERS[fmt])
    return ToolResult([out], {"format": fmt})
