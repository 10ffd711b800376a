"""Presentations to PDF through the warm LibreOffice: pptx, ppt, odp (one page per slide)."""

from __future__ import annotations

from actors.documents import _office
from protocols.tools import Family, Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class PowerpointToPdfSettings(ToolSettings):
    pass


@tool("powerpoint-to-pdf", section=Section.PDF, family=Family.DOCUMENTS, settings=PowerpointToPdfSettings, mode=Mode.LONG,
      accepts={"office"}, in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Convert a presentation (pptx, ppt, odp) to PDF."""
    out = await _office.convert(call, "presentation", "pdf", filtername="impress_pdf_Export")
    return ToolResult([out])
