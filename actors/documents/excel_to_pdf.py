"""Spreadsheets to PDF through the warm LibreOffice: xlsx, xls, ods, csv."""

from __future__ import annotations

from actors.documents import _office
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class ExcelToPdfSettings(ToolSettings):
    pass


@tool("excel-to-pdf", section=Section.PDF, settings=ExcelToPdfSettings, mode=Mode.LONG,
      accepts={"office", "text"}, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Convert a spreadsheet (xlsx, xls, ods, csv) to PDF."""
    out = await _office.convert(call, "spreadsheet", "pdf", filtername="calc_pdf_Export")
    return ToolResult([out])
