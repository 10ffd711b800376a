"""PDF to image (pdfium): pages (all or ranges) at a DPI in PNG/JPEG/WebP; /info and /preview sub-routes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from actors.common import imageio as v
from actors.image import _layout as lay
from protocols.errors import ErrorCode, ToolError, bad_input
from protocols.tools import Section, ToolCall, ToolResult, ToolSettings, tool


class PdfToImageSettings(ToolSettings):
    pages: str = Field("all", max_length=500, description="'all' or page ranges like '1-3,5,8-'")
    format: Literal["png", "jpeg", "jpg", "webp"] = Field("png", description="Image format")
    dpi: int = Field(150, ge=36, le=600, description="Resolution, dots per inch")
    quality: int = Field(85, ge=1, le=100, description="Quality for jpeg/webp")
    password: str | None = Field(None, max_length=200, description="Password of an encrypted PDF")


class PdfInfoSettings(ToolSettings):
    password: str | None = Field(None, max_length=200, description="Password of an encrypted PDF")


class PdfPreviewSettings(ToolSettings):
    page: int = Field(1, ge=1, description="Page number (1-based)")
    dpi: int = Field(72, ge=18, le=300, description="Resolution, dots per inch")
    format: Literal["png", "jpeg", "jpg", "webp"] = Field("webp", description="Image format")
    quality: int = Field(80, ge=1, le=100, description="Quality for jpeg/webp")
    password: str | None = Field(None, max_length=200, description="Password of an encrypted PDF")


def open_pdf(path: Path, password: str | None, limits):
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path), password=password)
    except pdfium.PdfiumError as err:
        if "password" in str(err).lower():
            raise bad_input("The PDF is encrypted: send its password in 'password'." if not password
                            else "The password for this PDF is wrong.") from None
        raise bad_input("The file is not a PDF this server can read, or it is corrupt.") from None
    count = len(pdf)
    if count == 0:
        raise bad_input("The PDF has no pages.")
    cap = getattr(limits, "max_pdf_pages", 0)
    if cap and count > cap:
        raise ToolError(f"The PDF has {count} pages; this server accepts at most {cap}.", ErrorCode.PAYLOAD_TOO_LARGE,
                        413)
    return pdf


def parse_pages(spec: str, count: int) -> list[int]:
    """'all' | '1-3,5,8-' -> 0-based page indexes, in order, without repeats. Out of range is a 400."""
    text = spec.strip().lower()
    if text in ("all", ""):
        return list(range(count))
    picked: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                a, b = part.split("-", 1)
                lo = int(a) if a else 1
                hi = int(b) if b and b != "z" else count
            else:
                lo = hi = int(part)
        except ValueError:
            raise bad_input(f"Not a page list: {spec[:40]!r} (use e.g. '1-3,5').") from None
        if lo < 1 or hi > count or lo > hi:
            raise bad_input(f"Pages {part} are outside this PDF (it has {count} page{'s' * (count != 1)}).")
        picked.extend(range(lo - 1, hi))
    if not picked:
        raise bad_input("No pages selected.")
    return list(dict.fromkeys(picked))


def render_page(pdf, index: int, dpi: int, limits):
    page = pdf[index]
    width_pt, height_pt = page.get_size()
    scale = dpi / 72
    v.check_pixels(max(1, round(width_pt * scale)), max(1, round(height_pt * scale)), limits, f"Page {index + 1}")
    try:
        bitmap = page.render(scale=scale, draw_annots=True, may_draw_forms=True, fill_color=(255, 255, 255, 255))
        pil = bitmap.to_pil()
    except Exception:
        raise ToolError(f"Page {index + 1} could not be rendered.") from None
    image = lay.from_pil(pil.convert("RGB"))
    image = image.copy(xres=dpi / 25.4, yres=dpi / 25.4)
    return image


@tool("pdf-to-image", section=Section.PDF, settings=PdfToImageSettings, accepts={"pdf"})
def run(call: ToolCall[PdfToImageSettings]) -> ToolResult:
    """Render PDF pages to images (several pages come back as a ZIP)."""
    s = call.settings
    pdf = open_pdf(call.inputs[0], s.password, call.limits)
    try:
        indexes = parse_pages(s.pages, len(pdf))
        fmt = "jpeg" if s.format == "jpg" else s.format
        digits = len(str(len(pdf)))
        outputs, pages = [], []
        for i in indexes:
            image = render_page(pdf, i, s.dpi, call.limits)
            outputs.append(v.save(image, call.workdir, f"{call.stem()}_page_{i + 1:0{digits}d}", fmt, s.quality))
            pages.append({"page": i + 1, "width": image.width, "height": image.height, "filename": outputs[-1].name})
        return ToolResult(outputs, {"pageCount": len(pdf), "pages": pages, "dpi": s.dpi, "rendered": len(pages)})
    finally:
        pdf.close()


@tool("pdf-to-image/info", section=Section.PDF, settings=PdfInfoSettings, accepts={"pdf"})
def info(call: ToolCall[PdfInfoSettings]) -> ToolResult:
    """Page count, page sizes and metadata of a PDF."""
    s = call.settings
    pdf = open_pdf(call.inputs[0], s.password, call.limits)
    try:
        sizes = []
        for i in range(len(pdf)):
            w, h = pdf[i].get_size()
            sizes.append({"page": i + 1, "width": round(w, 2), "height": round(h, 2),
                          "widthIn": round(w / 72, 3), "heightIn": round(h / 72, 3)})
        try:
            meta = {k: v_ for k, v_ in pdf.get_metadata_dict(skip_empty=True).items()}
        except Exception:
            meta = {}
        data = {"pageCount": len(pdf), "pages": sizes, "metadata": meta, "version": pdf.get_version(),
                "size": call.inputs[0].stat().st_size}
    finally:
        pdf.close()
    out = lay.write_json(call.workdir / f"{call.stem()}-info.json", data)
    return ToolResult([out], data)


@tool("pdf-to-image/preview", section=Section.PDF, settings=PdfPreviewSettings,
      accepts={"pdf"}, response="file")
def preview(call: ToolCall[PdfPreviewSettings]) -> ToolResult:
    """One page as an image, answered directly (for live previews)."""
    s = call.settings
    pdf = open_pdf(call.inputs[0], s.password, call.limits)
    try:
        if s.page > len(pdf):
            raise bad_input(f"Page {s.page} is outside this PDF (it has {len(pdf)} pages).")
        image = render_page(pdf, s.page - 1, s.dpi, call.limits)
        fmt = "jpeg" if s.format == "jpg" else s.format
        out = v.save(image, call.workdir, f"{call.stem()}_page_{s.page}", fmt, s.quality)
        return ToolResult([out], {"page": s.page, "pageCount": len(pdf), "width": image.width,
                                  "height": image.height})
    finally:
        pdf.close()
