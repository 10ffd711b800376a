"""Extract the text of a PDF (poppler's pdftotext): reading order or physical layout, pages split by
form feeds. The text also comes back in the JSON body (cut at 100,000 characters)."""

from __future__ import annotations

from pydantic import Field

from actors.common import pdfs
from actors.documents import _proc
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool

INLINE_LIMIT = 100_000


class PdfToTextSettings(ToolSettings):
    layout: bool = Field(False, description="Keep the physical layout (columns, spacing) instead of reading order")


@tool("pdf-to-text", section=Section.PDF, settings=PdfToTextSettings, accepts={"pdf"})
def run(call: ToolCall[PdfToTextSettings]) -> ToolResult:
    """Extract the text of a PDF."""
    s = call.settings
    pages = pdfs.check_input(call.inputs[0], call.limits)
    out = pdfs.out_path(call, ext="txt")
    argv = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if s.layout else []), call.inputs[0], out]
    _proc.run(argv, timeout=_proc.SHORT_TIMEOUT * 2, what="Extracting the text")
    text = out.read_text("utf-8", errors="replace")
    return ToolResult([out], {"pages": pages, "text": text[:INLINE_LIMIT], "truncated": len(text) > INLINE_LIMIT,
                              "characters": len(text)})
