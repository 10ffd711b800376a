"""Flatten a PDF: form fields and annotations are drawn into the page content and stop being editable."""

from __future__ import annotations

from actors.common import pdfs
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class FlattenSettings(ToolSettings):
    pass


@tool("flatten-pdf", section=Section.PDF, settings=FlattenSettings, accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Flatten form fields and annotations into the page content."""
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        before = sum(len(page.obj.get("/Annots", [])) for page in pdf.pages)
        if "/AcroForm" in pdf.Root:
            # field values without an appearance stream would vanish: have qpdf draw them first
            pdf.Root.AcroForm.NeedAppearances = True
            pdf.generate_appearance_streams()
        pdf.flatten_annotations(mode="all")
        # anything left (e.g. annotations qpdf cannot draw, like links) stays out of the interactive layer
        for page in pdf.pages:
            if "/Annots" in page.obj:
                del page.obj["/Annots"]
        if "/AcroForm" in pdf.Root:
            del pdf.Root["/AcroForm"]
        out = pdfs.save(pdf, pdfs.out_path(call))
    return ToolResult([out], {"flattenedAnnotations": before})
