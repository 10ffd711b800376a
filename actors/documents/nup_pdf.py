"""N-up: 2, 3, 4, 8, 9, 12 or 16 pages per sheet, left to right, top to bottom, on sheets the size of the
first page (turned to whichever orientation shows the pages largest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import pdfs
from actors.documents import _layout
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class NupSettings(ToolSettings):
    per_sheet: Literal[2, 3, 4, 8, 9, 12, 16] = Field(2, description="Pages per sheet")
    margin: float = Field(0, ge=0, le=200, description="Sheet margin in points")


@tool("nup-pdf", section=Section.PDF, settings=NupSettings, accepts={"pdf"})
def run(call: ToolCall[NupSettings]) -> ToolResult:
    """Put several pages on each sheet."""
    s = call.settings
    n = s.per_sheet
    with pdfs.opened(call.inputs[0], call.limits) as src:
        count = len(src.pages)
        page_w, page_h = _layout.visible_size(src.pages[0])
        cols, rows, sheet_w, sheet_h = _layout.best_grid(n, page_w, page_h, page_w, page_h)
        sheets: list[list[int | None]] = [list(range(i, min(i + n, count))) for i in range(0, count, n)]
        with _layout.impose(src, sheets, cols, rows, sheet_w, sheet_h, s.margin) as out:
            target = pdfs.save(out, pdfs.out_path(call, f"_{n}up"))
    return ToolResult([target], {"sheets": len(sheets), "grid": f"{cols}x{rows}"})
