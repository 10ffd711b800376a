"""Convert a word-processing document between docx, odt, rtf and txt (warm LibreOffice)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.documents import _office
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

FILTERS = {"docx": "MS Word 2007 XML", "odt": "writer8", "rtf": "Rich Text Format", "txt": "Text (encoded)"}
OPTIONS = {"txt": ["UTF8,LF"]}


class ConvertDocumentSettings(ToolSettings):
    format: Literal["docx", "odt", "rtf", "txt"] = Field("docx", description="Output format")


@tool("convert-document", section=Section.PDF, settings=ConvertDocumentSettings,
      mode=Mode.LONG, accepts={"office", "text"}, runs=Runs.LOOP)
async def run(call: ToolCall[ConvertDocumentSettings]) -> ToolResult:
    """Convert a document (docx, doc, odt, rtf, txt) to docx, odt, rtf or txt."""
    fmt = call.settings.format
    out = await _office.convert(call, "document", fmt, filtername=FILTERS[fmt], filter_options=OPTIONS.get(fmt))
    return ToolResult([out], {"format": fmt})
