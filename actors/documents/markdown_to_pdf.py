"""Markdown to PDF: Markdown (with tables, fenced code, footnotes) to HTML, rendered by WeasyPrint with
remote resources disabled (no network or disk fetches; only inline data: images)."""

from __future__ import annotations

from actors.common import pdfs
from actors.documents import _web
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class MarkdownToPdfSettings(ToolSettings):
    pass


@tool("markdown-to-pdf", section=Section.PDF, settings=MarkdownToPdfSettings,
      mode=Mode.LONG, accepts={"text"})
def run(call: ToolCall) -> ToolResult:
    """Render a Markdown file to PDF."""
    text = _web.read_text(call.inputs[0], "Markdown file")
    markup = _web.markdown_to_html(text, call.stem())
    out = _web.render_pdf(markup, pdfs.out_path(call))
    pages = pdfs.check_input(out, call.limits)
    return ToolResult([out], {"pages": pages})
