"""Merge PDFs: 2 to 20 files, pages in upload order.

The pages are copied with pikepdf, in this worker process (the QPDF library, the same page copying as the
qpdf program): starting the qpdf program costs ~30 ms, three times the whole merge of twenty 10-page
files. When an input has an interactive form, the qpdf program does it instead: its `--pages` also merges
the form fields (AcroForm), which copying pages alone would leave behind."""

from __future__ import annotations

import contextlib

import pikepdf

from actors.common import pdfs
from actors.documents import _proc
from protocols.errors import ToolError
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class MergeSettings(ToolSettings):
    pass


@tool("merge-pdf", section=Section.PDF, settings=MergeSettings, inputs=(2, 20),
      accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Merge several PDFs into one."""
    target = call.workdir / "merged.pdf"
    total, forms = 0, False
    with contextlib.ExitStack() as stack:
        sources = []
        for index, path in enumerate(call.inputs):
            pdf = stack.enter_context(pdfs.opened(path, call.limits))
            sources.append(pdf)
            total += len(pdf.pages)
            forms = forms or "/AcroForm" in pdf.Root
            if call.limits.max_pdf_pages:
                pdfs.check_pages(total, call.limits, f"The merged PDF (after file {index + 1})")
        if not forms:
            merged = stack.enter_context(pikepdf.new())
            try:
                for pdf in sources:
                    merged.pages.extend(pdf.pages)
            except pdfs.DAMAGED:
                raise ToolError("The PDFs could not be merged: one of them may be damaged (try repair-pdf first).") \
                    from None
            pdfs.save(merged, target, min_version=max(pdf.pdf_version for pdf in sources))
    if forms:  # the inputs are closed by now: the program reads the files itself
        argv = ["qpdf", "--warning-exit-0", "--empty", "--pages", *call.inputs, "--", target]
        _proc.run(argv, timeout=_proc.SHORT_TIMEOUT, what="Merging the PDFs")
    return ToolResult([target], {"pages": total})
