"""Merge PDFs: 2 to 20 files, pages in upload order (qpdf does the copy: it is the fastest merger)."""

from __future__ import annotations

from actors.documents import _pdf, _proc
from protocols.tools import Family, Section, ToolCall, ToolResult, ToolSettings, tool


class MergeSettings(ToolSettings):
    pass


@tool("merge-pdf", section=Section.PDF, family=Family.DOCUMENTS, settings=MergeSettings, inputs=(2, 20),
      accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Merge several PDFs into one."""
    total = 0
    for index, path in enumerate(call.inputs):
        total += _pdf.check_input(path, call.limits)
        if call.limits.max_pdf_pages:
            _pdf.check_pages(total, call.limits, f"The merged PDF (after file {index + 1})")
    target = call.workdir / "merged.pdf"
    argv = ["qpdf", "--warning-exit-0", "--empty", "--pages", *call.inputs, "--", target]
    _proc.run(argv, timeout=_pdf.SHORT_TIMEOUT, what="Merging the PDFs")
    return ToolResult([target], {"pages": total})
