"""ocr-pdf: a scanned (image-only) PDF becomes searchable: pdftotext finds the words afterwards."""

from __future__ import annotations

import difflib
import subprocess

import pikepdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from protocols.errors import ToolError
from tests.helpers import run_tool

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = ["Invoice number 4711 for garden tools", "Total amount due within thirty days"]


def page_image(lines, rotate=0):
    font = ImageFont.truetype(FONT, 30)
    img = Image.new("RGB", (1240, 600), "white")  # 150 dpi: about 8.3 x 4 inches
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((80, 100 + 80 * i), line, fill="black", font=font)
    return img.rotate(rotate, expand=True) if rotate else img


def scanned_pdf(path, pages):
    images = [page_image(p) for p in pages]
    images[0].save(path, save_all=True, append_images=images[1:], resolution=150)
    return path


def pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode()


def similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, " ".join(a.split()), " ".join(b.split())).ratio()


@pytest.fixture(scope="module")
def two_pages(tmp_path_factory):
    return scanned_pdf(tmp_path_factory.mktemp("ocrpdf") / "scan.pdf", [LINES, ["Second page says hello world"]])


@pytest.mark.parametrize("quality", ["fast", "balanced"])
def test_ocr_pdf_makes_text_searchable(bundle, two_pages, tmp_path, quality):
    bundle("ocr")
    assert pdftotext(two_pages).strip() == ""  # image-only before
    result = run_tool("ocr-pdf", two_pages, {"quality": quality}, tmp_path)
    out = result.outputs[0]
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 2
    text = pdftotext(out)
    assert similar(" ".join(LINES), " ".join(text.split("\f")[0].split())) >= 0.9, text
    assert "hello" in text.split("\f")[1]
    assert result.extra["pagesProcessed"] == 2 and result.extra["pageCount"] == 2
    # the page images are still there, unchanged in size
    with pikepdf.open(two_pages) as before, pikepdf.open(out) as after:
        assert [float(v) for v in before.pages[0].mediabox] == [float(v) for v in after.pages[0].mediabox]


def test_ocr_pdf_page_selection_and_rotated_page(tmp_path):
    src = tmp_path / "rot.pdf"
    # page stored sideways with /Rotate 90, so it displays upright
    page_image(LINES, rotate=90).save(src, resolution=150)
    with pikepdf.open(src, allow_overwriting_input=True) as pdf:
        pdf.pages[0].obj.Rotate = 90
        pdf.save(src)
    result = run_tool("ocr-pdf", src, {"quality": "fast", "pages": "1"}, tmp_path)
    text = pdftotext(result.outputs[0])
    assert "Invoice" in text and "thirty" in text


def test_ocr_pdf_bad_inputs(tmp_path, two_pages):
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(ToolError) as info:
        run_tool("ocr-pdf", tmp_path / "x.pdf", {"quality": "fast"}, tmp_path)
    assert info.value.status == 400
    with pytest.raises(ToolError) as info:
        run_tool("ocr-pdf", two_pages, {"quality": "fast", "pages": "7"}, tmp_path)
    assert info.value.status == 400
