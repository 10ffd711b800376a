"""Word documents to PDF through the warm LibreOffice: docx, doc, odt, rtf, txt."""

from __future__ import annotations

from actors.documents import _office
from protocols.tools import Family, Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class WordToPdfSettings(ToolSettings):
    pass


@tool("word-to-pdf", section=Section.PDF, family=Family.DOCUMENTS, settings=WordToPdfSettings, mode=Mode.LONG,
      accepts={"office", "text"}, in_process=True)
async def run(call: ToolCall) -> ToolResult:
    """Convert a word-processing document (docx, doc, odt, rtf, txt) to PDF."""
    out = await _office.convert(call, "document", "pdf", filtername="writer_pdf_Export")
    return ToolResult([out])
