"""Visible PDF tools with default settings (only required ones given) on realistic documents: a measured
change in the intended direction."""

from __future__ import annotations

import pikepdf
import pytest
from reportlab.lib.pagesizes import A4

from tests.helpers import run_tool
from tests.unit.documents.docpdfs import markers, numbered_pdf, page_texts
from tests.unit.documents.test_pdf_render import photo_pdf, pixel, words


def scanned_photo_pdf(path):
    """A real photo scanned at 300 dpi into an A4 page, stored losslessly as scanners often do."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    from skimage import data

    scan = Image.fromarray(data.coffee()).resize((1800, 1200), Image.LANCZOS)
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.drawImage(ImageReader(scan), 36, 300, width=A4[0] - 72, height=(A4[0] - 72) * 2 / 3)
    pdf.drawString(72, 100, "Photo page")
    pdf.save()
    return path


def test_compress_pdf_default_shrinks_a_scanned_photo(tmp_path):
    src = scanned_photo_pdf(tmp_path / "scan.pdf")
    out = run_tool("compress-pdf", src, {}, tmp_path).outputs[0]
    assert out.stat().st_size < src.stat().st_size * 0.5
    assert "Photo page" in page_texts(out)[0]


def test_page_numbers_default_numbers_every_page_at_the_bottom(tmp_path):
    src = numbered_pdf(tmp_path / "report.pdf", 3)
    out = run_tool("pdf-page-numbers", src, {}, tmp_path).outputs[0]
    for i in range(3):
        found, (w, h) = words(out, i)
        rect = next(r for t, r in found if t == str(i + 1))
        assert rect.y0 > h * 0.9 and w / 3 < rect.x0 < 2 * w / 3  # bottom centre
    assert markers(out) == [1, 2, 3]


def test_watermark_pdf_with_only_its_text(tmp_path):
    src = numbered_pdf(tmp_path / "contract.pdf", 2)
    out = run_tool("watermark-pdf", src, {"text": "CONFIDENTIAL"}, tmp_path).outputs[0]
    assert all("CONFIDENTIAL" in text for text in page_texts(out))
    assert pixel(out, 0.5, 0.5) != pixel(src, 0.5, 0.5)  # drawn across the middle, where it is seen


def test_crop_pdf_default_trims_the_margins(tmp_path):
    src = numbered_pdf(tmp_path / "page.pdf", 1)
    out = run_tool("crop-pdf", src, {}, tmp_path).outputs[0]
    with pikepdf.open(out) as pdf:
        box = [float(v) for v in pdf.pages[0].cropbox]
    assert box[2] - box[0] == pytest.approx(A4[0] - 72) and box[3] - box[1] == pytest.approx(A4[1] - 72)


def test_grayscale_pdf_default_removes_colour(tmp_path):
    src = photo_pdf(tmp_path / "colour.pdf")
    out = run_tool("grayscale-pdf", src, {}, tmp_path).outputs[0]
    for x, y in ((0.3, 0.4), (0.6, 0.6), (0.5, 0.3)):
        r_, g, b = pixel(out, x, y)
        assert max(r_, g, b) - min(r_, g, b) <= 3
    assert any(max(p) - min(p) > 30 for p in (pixel(src, x, y) for x, y in ((0.3, 0.4), (0.6, 0.6), (0.5, 0.3))))
