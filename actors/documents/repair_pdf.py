"""Repair a damaged PDF: qpdf's recovery (rebuilt cross-reference table), ghostscript as a last resort."""

from __future__ import annotations

import re

import pikepdf

from actors.common import pdfs
from actors.documents import _proc
from protocols.errors import ToolError, bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class RepairSettings(ToolSettings):
    pass


def _rewrite(src, out) -> int:
    """Open (qpdf recovers what it can while reading) and write a clean file; returns the page count."""
    try:
        with pikepdf.open(src) as pdf:
            if pdf.is_encrypted:
                raise bad_input(pdfs.ENCRYPTED_MESSAGE)
            count = len(pdf.pages)
            if count == 0:
                raise bad_input("No pages could be recovered from this PDF.")
            pdf.save(out)
            return count
    except pikepdf.PasswordError:
        raise bad_input(pdfs.ENCRYPTED_MESSAGE) from None


def _has_pages(path) -> bool:
    """Ghostscript turns anything into a blank page: only let it try when page objects are present."""
    data = path.read_bytes()
    return b"/ObjStm" in data or re.search(rb"/Type\s*/Page\b", data) is not None


@tool("repair-pdf", section=Section.PDF, settings=RepairSettings, accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Repair a damaged PDF."""
    src = call.inputs[0]
    pdfs.check_pdf_header(src)
    out = pdfs.out_path(call, "_repaired")
    method = "qpdf"
    try:
        count = _rewrite(src, out)
    except (*pdfs.DAMAGED, ValueError):
        # qpdf gave up: let ghostscript re-interpret the page content and write a new file, if there is any
        if not _has_pages(src):
            raise bad_input("This PDF is too damaged to repair: no pages were found in it.") from None
        method = "ghostscript"
        rebuilt = call.workdir / "_gs_rebuilt.pdf"
        try:
            _proc.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pdfwrite", f"-sOutputFile={rebuilt}",
                       src], timeout=_proc.GS_TIMEOUT, what="Repairing the PDF")
            count = _rewrite(rebuilt, out)
        except (ToolError, *pdfs.DAMAGED, ValueError):
            raise bad_input("This PDF is too damaged to repair: no readable pages were found.") from None
        finally:
            rebuilt.unlink(missing_ok=True)
    pdfs.check_pages(count, call.limits)
    return ToolResult([out], {"pages": count, "method": method})
