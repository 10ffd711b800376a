"""PDF to Word (.docx): the text of each page as paragraphs (font size, bold and italic kept, larger
text as headings), embedded images in place, a page break between pages. A reflowing conversion:
complex layouts (columns, tables) come out as a sequence of paragraphs."""

from __future__ import annotations

import io
import statistics

from docx import Document
from docx.enum.text import WD_BREAK
from docx.shared import Pt

from actors._lazy import pymupdf
from actors.common import pdfs
from protocols.errors import bad_input
from protocols.tools import Mode, Section, ToolCall, ToolResult, ToolSettings, tool

MAX_IMAGE_WIDTH_PT = 450


def mupdf_errors() -> tuple[type[Exception], ...]:
    """What MuPDF raises on a damaged file (a function: PyMuPDF loads at the first use)."""
    return (RuntimeError, ValueError, pymupdf.mupdf.FzErrorBase)


class PdfToWordSettings(ToolSettings):
    pass


def _body_size(doc: pymupdf.Document) -> float:
    sizes = [span["size"] for page in doc for block in page.get_text("dict")["blocks"] if block["type"] == 0
             for line in block["lines"] for span in line["spans"] if span["text"].strip()]
    return statistics.median(sizes) if sizes else 11


def _add_text_block(document, block: dict, body: float) -> None:
    spans = [span for line in block["lines"] for span in line["spans"]]
    if not any(span["text"].strip() for span in spans):
        return
    largest = max(span["size"] for span in spans if span["text"].strip())
    paragraph = document.add_paragraph()
    if largest >= body * 1.5:
        paragraph.style = document.styles["Heading 1"]
    elif largest >= body * 1.2:
        paragraph.style = document.styles["Heading 2"]
    for li, line in enumerate(block["lines"]):
        for span in line["spans"]:
            text = span["text"]
            if not text:
                continue
            run = paragraph.add_run(text)
            run.font.size = Pt(round(span["size"] * 2) / 2)
            flags = span.get("flags", 0)
            run.bold = bool(flags & 16) or None
            run.italic = bool(flags & 2) or None
        if li < len(block["lines"]) - 1:
            last = line["spans"][-1]["text"] if line["spans"] else ""
            if last and not last.endswith(("-", " ")):
                paragraph.add_run(" ")


def _add_image_block(document, block: dict) -> None:
    data = block.get("image")
    if not data:
        return
    width_pt = min(MAX_IMAGE_WIDTH_PT, block["bbox"][2] - block["bbox"][0])
    try:
        document.add_picture(io.BytesIO(data), width=Pt(max(width_pt, 8)))
    except Exception:  # an image format python-docx cannot embed (e.g. JPX): convert to PNG
        try:
            pix = pymupdf.Pixmap(data)
            if pix.alpha or pix.n > 3:
                pix = pymupdf.Pixmap(pymupdf.csRGB, pix)
            document.add_picture(io.BytesIO(pix.tobytes("png")), width=Pt(max(width_pt, 8)))
        except Exception:
            return


@tool("pdf-to-word", section=Section.PDF, settings=PdfToWordSettings, mode=Mode.LONG,
      accepts={"pdf"})
def run(call: ToolCall) -> ToolResult:
    """Convert a PDF to an editable Word document."""
    pages = pdfs.check_input(call.inputs[0], call.limits)
    try:
        doc = pymupdf.open(call.inputs[0], filetype="pdf")
    except mupdf_errors():
        raise bad_input(pdfs.CORRUPT_MESSAGE) from None
    document = Document()
    try:
        body = _body_size(doc)
        for index, page in enumerate(doc):
            if index:
                document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            blocks = page.get_text("dict", sort=True)["blocks"]
            for block in blocks:
                if block["type"] == 0:
                    _add_text_block(document, block, body)
                elif block["type"] == 1:
                    _add_image_block(document, block)
            if call.progress:
                call.progress(100 * (index + 1) / pages, None)
    except mupdf_errors():
        raise bad_input(pdfs.CORRUPT_MESSAGE) from None
    finally:
        doc.close()
    core = document.core_properties
    core.title = call.stem()
    out = pdfs.out_path(call, ext="docx")
    document.save(out)
    return ToolResult([out], {"pages": pages})
