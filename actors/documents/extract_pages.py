"""Extract pages into a new PDF, in the order of a qpdf range (e.g. '1-5,8,10-z', 'z-1')."""

from __future__ import annotations

import pikepdf
from pydantic import Field

from actors.common import pdfs
from protocols.fields import page_list
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class ExtractSettings(ToolSettings):
    range: str = Field(..., min_length=1, max_length=2000, description="Pages to keep, qpdf syntax: '1-5,8,10-z'",
                       json_schema_extra=page_list("select"))


def pick(call: ToolCall, pages_text: str, suffix: str) -> ToolResult:
    with pdfs.opened(call.inputs[0], call.limits) as src:
        pages = pdfs.parse_pages(pages_text, len(src.pages))
        with pikepdf.new() as out:
            for number in pages:
                out.pages.append(src.pages[number - 1])
            target = pdfs.save(out, pdfs.out_path(call, suffix))
    return ToolResult([target], {"pages": len(pages)})


@tool("extract-pages", section=Section.PDF, settings=ExtractSettings, accepts={"pdf"})
def run(call: ToolCall[ExtractSettings]) -> ToolResult:
    """Extract pages from a PDF."""
    return pick(call, call.settings.range, "_extracted")
