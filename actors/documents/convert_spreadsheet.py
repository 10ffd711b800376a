"""Convert a spreadsheet between xlsx, ods and csv (warm LibreOffice; CSV = the first sheet, UTF-8)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.documents import _office
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

FILTERS = {"xlsx": "Calc MS Excel 2007 XML", "ods": "calc8", "csv": "Text - txt - csv (StarCalc)"}
# comma, double quote, UTF-8, first line 1, (no column formats), keep formulas' results
OPTIONS = {"csv": ["44,34,76,1,,0,false,true,false,false,false"]}


class ConvertSpreadsheetSettings(ToolSettings):
    format: Literal["xlsx", "ods", "csv"] = Field("xlsx", description="Output format")


@tool("convert-spreadsheet", section=Section.PDF, settings=ConvertSpreadsheetSettings,
      mode=Mode.LONG, accepts={"office", "text"}, runs=Runs.LOOP)
async def run(call: ToolCall[ConvertSpreadsheetSettings]) -> ToolResult:
    """Convert a spreadsheet (xlsx, xls, ods, csv) to xlsx, ods or csv."""
    fmt = call.settings.format
    out = await _office.convert(call, "spreadsheet", fmt, filtername=FILTERS[fmt], filter_options=OPTIONS.get(fmt))
    return ToolResult([out], {"format": fmt})
