"""Markdown to a standalone HTML page (tables, fenced code, footnotes, table of contents anchors)."""

from __future__ import annotations

from actors.common import pdfs
from actors.documents import _web
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class MarkdownToHtmlSettings(ToolSettings):
    pass


@tool("markdown-to-html", section=Section.PDF, settings=MarkdownToHtmlSettings,
      accepts={"text"})
def run(call: ToolCall) -> ToolResult:
    """Convert Markdown to HTML."""
    text = _web.read_text(call.inputs[0], "Markdown file")
    out = pdfs.out_path(call, ext="html")
    out.write_text(_web.markdown_to_html(text, call.stem()), encoding="utf-8")
    return ToolResult([out])
