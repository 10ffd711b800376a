"""Spreadsheets to PDF through the warm LibreOffice: xlsx, xls, ods, csv."""

from __future__ import annotations

from actors.documents import _office
from protocols.tools import Family, Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class ExcelToPdfSettings(ToolSettings):
    pass


@tool("excel-to-pdf", section=Section.PDF, family=Family.DOCUMENTS, settings=ExcelToPdfSettings, mode=Mode.LONG,
      accepts={"office", "text"}, in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Convert a spreadsheet (xlsx, xls, ods, csv) to PDF."""
    out = await _office.convert(call, "spreadsheet", "pdf", filtername="calc_pdf_Export")
    return ToolResult([out])
