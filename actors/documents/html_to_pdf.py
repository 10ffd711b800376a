"""HTML to PDF with WeasyPrint. Remote resources are disabled: images, stylesheets and fonts load only
when inline (data: URIs); nothing is fetched from the network or the server's disk."""

from __future__ import annotations

from actors.common import pdfs
from actors.documents import _web
from protocols.errors import bad_input
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool


class HtmlToPdfSettings(ToolSettings):
    pass


@tool("html-to-pdf", section=Section.PDF, settings=HtmlToPdfSettings, mode=Mode.LONG,
      accepts={"text"})
def run(call: ToolCall) -> ToolResult:
    """Render an HTML file to PDF."""
    markup = _web.read_text(call.inputs[0], "HTML file")
    if "<" not in markup:
        raise bad_input("The file does not look like HTML.")
    out = _web.render_pdf(markup, pdfs.out_path(call), stylesheet=False)
    pages = pdfs.check_input(out, call.limits)
    return ToolResult([out], {"pages": pages})
