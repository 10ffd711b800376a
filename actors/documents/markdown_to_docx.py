"""Markdown to Word (.docx) with pandoc: remote or local images are
not fetched (they are replaced by their alt text)."""

from __future__ import annotations

from actors.common import pdfs
from actors.documents import _web
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class MarkdownToDocxSettings(ToolSettings):
    pass


@tool("markdown-to-docx", section=Section.PDF, settings=MarkdownToDocxSettings,
      accepts={"text"})
def run(call: ToolCall) -> ToolResult:
    """Convert Markdown to a Word document."""
    text = _web.read_text(call.inputs[0], "Markdown file")
    source = call.workdir / "_input.md"
    source.write_text(text, encoding="utf-8")
    out = pdfs.out_path(call, ext="docx")
    dropped = _web.pandoc_convert(source, "markdown", "docx", out, what="Converting the Markdown")
    source.unlink(missing_ok=True)
    return ToolResult([out], {"droppedReferences": dropped})
