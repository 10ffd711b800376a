"""Split a PDF by ranges ('1-3,4-z': one file per comma group) or every N pages; several files -> ZIP."""

from __future__ import annotations

from typing import Literal

import pikepdf
from pydantic import Field

from actors.common import pdfs
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class SplitSettings(ToolSettings):
    mode: Literal["range", "every"] = Field("every", description="'range': one file per comma-separated group "
                                                                 "of `range`; 'every': a file every N pages")
    range: str | None = Field(None, max_length=2000, description="qpdf page ranges, e.g. '1-3,4-6,7-z'")
    every_n: int = Field(1, ge=1, le=500, description="Pages per file in 'every' mode")


def _label(pages: list[int]) -> str:
    if len(pages) == 1:
        return f"p{pages[0]}"
    if pages == list(range(pages[0], pages[-1] + 1)) or pages == list(range(pages[0], pages[-1] - 1, -1)):
        return f"p{pages[0]}-{pages[-1]}"
    return f"p{pages[0]}-etc"


@tool("split-pdf", section=Section.PDF, settings=SplitSettings, accepts={"pdf"})
def run(call: ToolCall[SplitSettings]) -> ToolResult:
    """Split a PDF into several files."""
    s = call.settings
    outputs = []
    with pdfs.opened(call.inputs[0], call.limits) as src:
        count = len(src.pages)
        if s.mode == "range":
            groups = pdfs.parse_groups(s.range or "", count)
        else:
            groups = [list(range(i, min(i + s.every_n, count + 1))) for i in range(1, count + 1, s.every_n)]
        used: set[str] = set()
        for index, group in enumerate(groups, 1):
            label = _label(group)
            if label in used:
                label = f"{label}_{index}"
            used.add(label)
            with pikepdf.new() as part:
                for number in group:
                    part.pages.append(src.pages[number - 1])
                outputs.append(pdfs.save(part, pdfs.out_path(call, f"_{label}")))
    return ToolResult(outputs, {"files": len(outputs)})
