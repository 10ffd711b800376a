"""Reorder (and repeat or drop) pages with a qpdf page order: '3,1,2,5-z', 'z-1' reverses."""

from __future__ import annotations

from pydantic import Field

from actors.documents.extract_pages import pick
from protocols.fields import page_list
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class OrganizeSettings(ToolSettings):
    order: str = Field(..., min_length=1, max_length=2000, description="New page order, qpdf syntax: '3,1,2,5-z'",
                       json_schema_extra=page_list("order"))


@tool("organize-pdf", section=Section.PDF, settings=OrganizeSettings, accepts={"pdf"})
def run(call: ToolCall[OrganizeSettings]) -> ToolResult:
    """Reorder the pages of a PDF."""
    return pick(call, call.settings.order, "")
