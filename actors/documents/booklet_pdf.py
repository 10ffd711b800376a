"""Booklet imposition for duplex printing, folding and saddle stitching.

Pages are padded with blanks to a multiple of 4. Booklet sheet s (0 = outermost) carries, front side,
pages (N-2s | 2s+1) and, back side, (2s+2 | N-2s-1), left | right. perSheet = pages on each printed side:
2 = one spread per side; 4, 6, 8 = 2, 3, 4 spreads stacked (cut them apart, then nest in order: the
spread in row r of printed sheet j is booklet sheet j*rows + r). Print double-sided, flipping on the
long edge for stacked layouts and on the short edge for single-spread landscape sheets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from actors.common import pdfs
from actors.documents import _layout
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class BookletSettings(ToolSettings):
    per_sheet: Literal[2, 4, 6, 8] = Field(2, description="Pages on each printed side (2 = one spread)")


def booklet_sides(count: int, spreads_per_side: int = 1) -> list[list[int | None]]:
    """The printed sides, each a list of cells (left, right per row), as 0-based pages or None (blank)."""
    total = -(-count // 4) * 4

    def page(number: int) -> int | None:  # 1-based booklet page -> 0-based source page or blank
        return number - 1 if number <= count else None

    fronts, backs = [], []
    for s in range(total // 4):
        fronts.append([page(total - 2 * s), page(2 * s + 1)])
        backs.append([page(2 * s + 2), page(total - 2 * s - 1)])
    sides: list[list[int | None]] = []
    for start in range(0, len(fronts), spreads_per_side):
        front: list[int | None] = []
        back: list[int | None] = []
        for s in range(start, min(start + spreads_per_side, len(fronts))):
            front += fronts[s]
            back += backs[s]
        sides += [front, back]
    return sides


@tool("booklet-pdf", section=Section.PDF, settings=BookletSettings, accepts={"pdf"})
def run(call: ToolCall[BookletSettings]) -> ToolResult:
    """Impose a PDF as a printable booklet."""
    s = call.settings
    rows = s.per_sheet // 2
    with pdfs.opened(call.inputs[0], call.limits) as src:
        count = len(src.pages)
        page_w, page_h = _layout.visible_size(src.pages[0])
        _, _, sheet_w, sheet_h = _layout.best_grid(s.per_sheet, page_w, page_h, page_w, page_h, [(2, rows)])
        sides = booklet_sides(count, rows)
        with _layout.impose(src, sides, 2, rows, sheet_w, sheet_h) as out:
            target = pdfs.save(out, pdfs.out_path(call, "_booklet"))
    return ToolResult([target], {"sides": len(sides), "blankPages": -(-count // 4) * 4 - count})
