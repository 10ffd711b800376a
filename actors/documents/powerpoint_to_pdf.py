"""Presentations to PDF through the warm LibreOffice: pptx, ppt, odp (one page per slide)."""

from __future__ import annotations

from actors.documents import _office
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class PowerpointToPdfSettings(ToolSettings):
    pass


@tool("powerpoint-to-pdf", section=Section.PDF, settings=PowerpointToPdfSettings, mode=Mode.LONG,
      accepts={"office"}, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Convert a presentation (pptx, ppt, odp) to PDF."""
    out = await _office.convert(call, "presentation", "pdf", filtername="impress_pdf_Export")
    return ToolResult([out])
