"""Remove the pages of a qpdf range; what is left keeps its order."""

from __future__ import annotations

import pikepdf
from pydantic import Field

from actors.common import pdfs
from protocols.errors import bad_input
from protocols.fields import page_list
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class RemoveSettings(ToolSettings):
    pages: str = Field(..., min_length=1, max_length=2000, description="Pages to remove, qpdf syntax: '2,4-6,z'",
                       json_schema_extra=page_list("select"))


@tool("remove-pages", section=Section.PDF, settings=RemoveSettings, accepts={"pdf"})
def run(call: ToolCall[RemoveSettings]) -> ToolResult:
    """Remove pages from a PDF."""
    s = call.settings
    with pdfs.opened(call.inputs[0], call.limits) as src:
        count = len(src.pages)
        drop = set(pdfs.parse_pages(s.pages, count))
        keep = [n for n in range(1, count + 1) if n not in drop]
        if not keep:
            raise bad_input("That would remove every page; at least one page must remain.")
        with pikepdf.new() as out:
            for number in keep:
                out.pages.append(src.pages[number - 1])
            target = pdfs.save(out, pdfs.out_path(call))
    return ToolResult([target], {"pages": len(keep), "removedPages": count - len(keep)})
