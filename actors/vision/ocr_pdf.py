"""PDF OCR: a searchable PDF — the original pages, with an invisible text layer placed over each word."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path
from typing import Literal

import pikepdf
from pydantic import Field

from actors import sandbox
from actors._lazy import np
from actors.common import pdfs
from actors.vision import ocr_engines
from protocols.errors import ToolError, bad_input
from protocols.tools import Mode, Runs, Section, ToolCall, ToolResult, ToolSettings, tool

CJK = {"zh", "ja", "ko"}
FONT = "/LutraOCR"


class OcrPdfSettings(ToolSettings):
    quality: Literal["fast", "balanced", "best"] = Field(
        "balanced", description="fast = Tesseract at 200 dpi; balanced = PP-OCRv6 at 200 dpi; best = PP-OCRv6 at "
                                "300 dpi with enhancement")
    language: Literal["auto", "en", "de", "fr", "es", "zh", "ja", "ko"] = Field(
        "auto", description="Language of the text")
    pages: str = Field("all", max_length=500, description="Pages to OCR: 'all' or a range like '1-3,5'")


def _engine(s: OcrPdfSettings) -> str:
    if s.language in CJK:
        return "tesseract-pdf"  # glyph-less CID font layer from Tesseract itself
    return ocr_engines.engine_for(s.quality, s.language)


def _render(page, scale: float) -> np.ndarray:
    bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255))
    return np.ascontiguousarray(np.asarray(bitmap.to_pil().convert("RGB")))


def _pdf_string(text: str) -> bytes:
    data = text.encode("cp1252", "replace")
    return b"(" + data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _text_layer(words: list[ocr_engines.Word], scale: float, rotate: int, box: list[float]) -> bytes:
    """Content stream: invisible (3 Tr) Helvetica words sized and stretched to their boxes. Coordinates are
    in the displayed (rotated) page; a cm maps them back into the page's own space."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    display_h = w if rotate in (90, 270) else h
    cm = {0: (1, 0, 0, 1, x0, y0), 90: (0, 1, -1, 0, x0 + w, y0), 180: (-1, 0, 0, -1, x0 + w, y0 + h),
          270: (0, -1, 1, 0, x0, y0 + h)}[rotate]
    ops = [b"q", " ".join(f"{v:g}" for v in cm).encode() + b" cm", b"BT", b"3 Tr"]
    for word in words:
        bx, by, bw, bh = (v / scale for v in word.box)
        if bw <= 0 or bh <= 0 or not word.text.strip():
            continue
        size = bh * 0.85
        natural = max(1e-3, 0.52 * size * len(word.text))
        stretch = max(10.0, min(500.0, 100 * bw / natural))
        baseline = display_h - (by + bh * 0.8)
        ops.append(b"%s %.2f Tf %.1f Tz 1 0 0 1 %.2f %.2f Tm %s Tj" % (
            FONT.encode(), size, stretch, bx, baseline, _pdf_string(word.text + " ")))
    ops += [b"ET", b"Q"]
    return b"\n".join(ops)


def _add_layer(pdf: pikepdf.Pdf, page: pikepdf.Page, content: bytes) -> None:
    resources = page.obj.get("/Resources")
    if resources is None:
        page.obj.Resources = resources = pikepdf.Dictionary()
    fonts = resources.get("/Font")
    if fonts is None:
        resources.Font = fonts = pikepdf.Dictionary()
    fonts[FONT] = pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica,
        Encoding=pikepdf.Name.WinAnsiEncoding))
    page.contents_add(pdf.make_stream(content), prepend=False)


def _tesseract_page_pdf(png: Path, lang: str, dpi: int, out_base: Path) -> Path:
    try:
        proc = sandbox.run(["tesseract", str(png), str(out_base), "-l", lang, "--dpi", str(dpi), "pdf"],
                           timeout=600)
    except subprocess.TimeoutExpired:
        raise ToolError("Text recognition took too long.") from None
    if proc.returncode != 0:
        raise ToolError("Text recognition failed on a page of this PDF.")
    return out_base.with_suffix(".pdf")


@tool("ocr-pdf", section=Section.PDF, settings=OcrPdfSettings, mode=Mode.LONG, accepts={"pdf"},
      requires=lambda s: ("ocr",) if _engine(s) == "ppocr" else (), runs=Runs.THREAD)
def run(call: ToolCall[OcrPdfSettings]) -> ToolResult:
    """Make a scanned PDF searchable: OCR each page and add an invisible text layer."""
    import cv2
    import pypdfium2 as pdfium

    s = call.settings
    engine = _engine(s)
    dpi = 300 if s.quality == "best" else 200
    scale = dpi / 72
    texts: list[str] = []
    with pdfs.opened(call.inputs[0], call.limits) as pdf:
        count = len(pdf.pages)
        selected = sorted(set(range(1, count + 1) if s.pages.strip().lower() in ("", "all")
                              else pdfs.parse_pages(s.pages, count)))
        try:
            document = pdfium.PdfDocument(str(call.inputs[0]))
        except pdfium.PdfiumError:
            raise bad_input(pdfs.CORRUPT_MESSAGE) from None
        with tempfile.TemporaryDirectory(dir=call.workdir.parent, prefix="ocrpdf-") as scratch_dir:
            scratch = Path(scratch_dir)
            for n, number in enumerate(selected):
                if call.progress:
                    call.progress(100 * n / len(selected), f"page {number} of {count}")
                rgb = _render(document[number - 1], scale)
                page = pdf.pages[number - 1]
                if engine == "tesseract-pdf":
                    png = scratch / f"p{number}.png"
                    cv2.imwrite(str(png), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
                    words = ocr_engines.tesseract(png, s.language)
                    page_pdf = pikepdf.open(_tesseract_page_pdf(png, ocr_engines.TESSERACT_LANGS[s.language], dpi,
                                                                scratch / f"p{number}"))
                    pdf.pages[number - 1] = page_pdf.pages[0]
                    texts.append(ocr_engines.text_of(words))
                    continue
                if engine == "ppocr":
                    source = ocr_engines.enhance_for_ocr(rgb) if s.quality == "best" else rgb
                    factor = source.shape[1] / rgb.shape[1]
                    words = ocr_engines.ppocr(source, best=s.quality == "best")
                    if factor != 1.0:
                        for w in words:
                            w.box = tuple(round(v / factor) for v in w.box)  # type: ignore[assignment]
                else:
                    png = scratch / f"p{number}.png"
                    cv2.imwrite(str(png), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
                    words = ocr_engines.tesseract(png, s.language)
                rotate = int(page.obj.get("/Rotate", 0)) % 360
                box = [float(v) for v in page.mediabox]
                _add_layer(pdf, page, _text_layer(words, scale, rotate, box))
                texts.append(ocr_engines.text_of(words))
            document.close()
            out = pdfs.out_path(call, "_ocr")
            pdfs.save(pdf, out)
    text = "\n\n".join(texts)
    return ToolResult([out], {"text": text, "pageCount": count, "pagesProcessed": len(selected), "engine": engine})
