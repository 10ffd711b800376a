"""Word documents to PDF through the warm LibreOffice: docx, doc, odt, rtf, txt."""

from __future__ import annotations

from actors.documents import _office
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool


class WordToPdfSettings(ToolSettings):
    pass


@tool("word-to-pdf", section=Section.PDF, settings=WordToPdfSettings, mode=Mode.LONG,
      accepts={"office", "text"}, runs=Runs.LOOP)
async def run(call: ToolCall) -> ToolResult:
    """Convert a word-processing document (docx, doc, odt, rtf, txt) to PDF."""
    out = await _office.convert(call, "document", "pdf", filtername="writer_pdf_Export")
    return ToolResult([out])
