"""PDF rendering and rewriting tools on generated PDFs, checked by reading the results back."""

from __future__ import annotations

import io
import random

import pikepdf
import pymupdf
import pypdfium2 as pdfium
import pytest
from docx import Document
from PIL import Image
from pydantic import ValidationError
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from protocols.errors import ToolError
from protocols.tools import Limits
from tests.helpers import run_tool
from tests.unit.documents.docpdfs import marker, markers, numbered_pdf, page_texts, pdftotext, red_pdf


def refused(tool_id, inputs, settings, tmp_path, status=400, **kw):
    with pytest.raises(ToolError) as err:
        run_tool(tool_id, inputs, settings, tmp_path, **kw)
    assert err.value.status == status, err.value.message
    return err.value


def photo_pdf(path, size=1200):
    """A page with a big noisy photo: something compression can shrink."""
    rnd = random.Random(7)
    img = Image.new("RGB", (size, size))
    img.putdata([(x % 256, (x // size) % 256, rnd.randrange(256)) for x in range(size * size)])
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=98)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 50, 200, 500, 500)
    c.drawString(72, 800, "Photo page")
    c.showPage()
    c.save()
    return path


def words(path, page=0):
    """(text, visual rect) of each word on a page, rect in viewer coordinates (y down)."""
    doc = pymupdf.open(path)
    p = doc[page]
    out = [(w[4], pymupdf.Rect(w[:4]) * p.rotation_matrix) for w in p.get_text("words")]
    size = (p.rect.width, p.rect.height)
    doc.close()
    return out, size


def pixel(path, x_frac, y_frac, page=0, scale=0.5):
    doc = pdfium.PdfDocument(str(path))
    img = doc[page].render(scale=scale).to_pil().convert("RGB")
    doc.close()
    return img.getpixel((int(img.width * x_frac), int(img.height * y_frac)))


# ---- compress ---------------------------------------------------------------------------------
def test_compress_quality_shrinks_images(tmp_path):
    src = photo_pdf(tmp_path / "photo.pdf")
    result = run_tool("compress-pdf", src, {"quality": 20}, tmp_path)
    out = result.outputs[0]
    assert out.stat().st_size < src.stat().st_size * 0.5
    assert result.extra["compressed"] is True
    assert "Photo page" in page_texts(out)[0]


def test_compress_never_returns_a_bigger_file(tmp_path):
    src = numbered_pdf(tmp_path / "text.pdf", 2)
    out = run_tool("compress-pdf", src, {"quality": 100}, tmp_path).outputs[0]
    assert out.stat().st_size <= src.stat().st_size
    assert markers(out) == [1, 2]


def test_compress_target_size(tmp_path):
    src = photo_pdf(tmp_path / "photo.pdf")
    target_kb = max(20, src.stat().st_size // 1024 // 8)
    result = run_tool("compress-pdf", src, {"mode": "targetSize", "targetSizeKb": target_kb}, tmp_path)
    assert result.extra["targetMet"] is True
    assert result.outputs[0].stat().st_size <= target_kb * 1024
    impossible = run_tool("compress-pdf", src, {"mode": "targetSize", "targetSizeKb": 1}, tmp_path)
    assert impossible.extra["targetMet"] is False
    with pytest.raises(ValidationError):
        run_tool("compress-pdf", src, {"mode": "targetSize"}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("compress-pdf", src, {"quality": 0}, tmp_path)


# ---- grayscale / PDF/A ----------------------------------------------------------------------------
def test_grayscale_removes_colour(tmp_path):
    src = red_pdf(tmp_path / "red.pdf")
    r, g, b = pixel(src, 150 / 595, 1 - 150 / 842)
    assert r > 200 and g < 60  # red before
    out = run_tool("grayscale-pdf", src, {}, tmp_path).outputs[0]
    r, g, b = pixel(out, 150 / 595, 1 - 150 / 842)
    assert abs(r - g) < 4 and abs(g - b) < 4 and r < 200  # a mid grey now
    assert markers(out) == [1, 2]


def test_pdfa_identification(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 2)
    result = run_tool("pdfa-convert", src, {}, tmp_path)
    with pikepdf.open(result.outputs[0]) as pdf:
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == "/GTS_PDFA1" and "/DestOutputProfile" in intent
        for page in pdf.pages:  # every font embedded
            for font in page.Resources.Font.values():
                descriptor = font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert result.extra["pdfa"] == "PDF/A-2b"
    assert markers(result.outputs[0]) == [1, 2]


# ---- crop / n-up / booklet -----------------------------------------------------------------------
def test_crop_margin(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 2)
    out = run_tool("crop-pdf", src, {"margin": 50}, tmp_path).outputs[0]
    with pikepdf.open(out) as pdf:
        for page in pdf.pages:
            box = [float(v) for v in page.cropbox]
            assert box[2] - box[0] == pytest.approx(A4[0] - 100)
            assert box[3] - box[1] == pytest.approx(A4[1] - 100)
            assert [float(v) for v in page.mediabox] == box
    assert markers(out) == [1, 2]  # the marker at (72, top-100) is still inside
    refused("crop-pdf", src, {"margin": 400}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("crop-pdf", src, {"margin": 2001}, tmp_path)


@pytest.mark.parametrize("per_sheet, pages, sheets", [(2, 5, 3), (4, 9, 3), (9, 9, 1), (16, 3, 1), (3, 7, 3),
                                                     (8, 10, 2), (12, 13, 2), (16, 17, 2)])
def test_nup_counts_and_order(tmp_path, per_sheet, pages, sheets):
    src = numbered_pdf(tmp_path / "doc.pdf", pages)
    result = run_tool("nup-pdf", src, {"perSheet": per_sheet}, tmp_path)
    out = result.outputs[0]
    texts = page_texts(out)
    assert len(texts) == sheets
    # reading order: sheet i holds pages i*n+1 .. (i+1)*n, left to right then top to bottom
    for i in range(sheets):
        found, _ = words(out, i)
        placed = sorted((round(r.y0 / 20), r.x0, int(t[6:])) for t, r in found if t.startswith("Marker"))
        expected = list(range(i * per_sheet + 1, min(pages, (i + 1) * per_sheet) + 1))
        assert [n for _, _, n in placed] == expected


def test_nup_two_up_is_landscape(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 2)
    out = run_tool("nup-pdf", src, {"perSheet": 2}, tmp_path).outputs[0]
    with pikepdf.open(out) as pdf:
        box = pdf.pages[0].mediabox
        assert float(box[2]) > float(box[3])
    found, (w, _) = words(out)
    pos = {t: r for t, r in found}
    assert pos[marker(1)].x1 < w / 2 < pos[marker(2)].x0


def _spreads(path):
    """For each printed side: (left page, right page) from the marker positions."""
    sides = []
    for i in range(len(page_texts(path))):
        found, (w, _) = words(path, i)
        left = [int(t[6:]) for t, r in found if t.startswith("Marker") and r.x0 < w / 2]
        right = [int(t[6:]) for t, r in found if t.startswith("Marker") and r.x0 >= w / 2]
        sides.append((left[0] if left else None, right[0] if right else None))
    return sides


def test_booklet_order_for_folding(tmp_path):
    src = numbered_pdf(tmp_path / "eight.pdf", 8)
    out = run_tool("booklet-pdf", src, {"perSheet": 2}, tmp_path).outputs[0]
    assert _spreads(out) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    # 6 pages: padded with two blanks to 8
    src6 = numbered_pdf(tmp_path / "six.pdf", 6)
    result = run_tool("booklet-pdf", src6, {"perSheet": 2}, tmp_path)
    assert _spreads(result.outputs[0]) == [(None, 1), (2, None), (6, 3), (4, 5)]
    assert result.extra["blankPages"] == 2


def test_booklet_four_per_side_stacks_spreads(tmp_path):
    from actors.documents.booklet_pdf import booklet_sides
    assert booklet_sides(8, 2) == [[7, 0, 5, 2], [1, 6, 3, 4]]
    src = numbered_pdf(tmp_path / "eight.pdf", 8)
    out = run_tool("booklet-pdf", src, {"perSheet": 4}, tmp_path).outputs[0]
    found, (w, h) = words(out, 0)
    rows = sorted((round(r.y0), r.x0, int(t[6:])) for t, r in found if t.startswith("Marker"))
    assert [n for _, _, n in rows] == [8, 1, 6, 3]
    assert len(page_texts(out)) == 2


@pytest.mark.parametrize("per_sheet, pages, front, back", [
    (6, 12, [12, 1, 10, 3, 8, 5], [2, 11, 4, 9, 6, 7]),
    (8, 16, [16, 1, 14, 3, 12, 5, 10, 7], [2, 15, 4, 13, 6, 11, 8, 9]),
    (6, 5, [None, 1, None, 3, None, None], [2, None, 4, 5, None, None]),  # padded to 8: two spreads, one empty row
])
def test_booklet_six_and_eight_per_side(tmp_path, per_sheet, pages, front, back):
    """3 or 4 spreads stacked per printed side: read back left to right, top to bottom, they are the
    spreads of booklet sheets 0, 1, 2(, 3) in folding order; each side is one printed page."""
    src = numbered_pdf(tmp_path / "doc.pdf", pages)
    result = run_tool("booklet-pdf", src, {"perSheet": per_sheet}, tmp_path)
    out = result.outputs[0]
    assert len(page_texts(out)) == 2 and result.extra["sides"] == 2
    rows = per_sheet // 2
    for side, expected in enumerate((front, back)):
        found, (w, h) = words(out, side)
        cells: list[int | None] = [None] * per_sheet
        for text, rect in found:
            if text.startswith("Marker"):
                row = min(rows - 1, int((rect.y0 + rect.y1) / 2 / (h / rows)))
                col = 0 if (rect.x0 + rect.x1) / 2 < w / 2 else 1
                assert cells[row * 2 + col] is None
                cells[row * 2 + col] = int(text[6:])
        assert cells == expected, (side, cells)


# ---- watermark / page numbers ---------------------------------------------------------------
def test_watermark_text_position_and_opacity(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 2)
    out = run_tool("watermark-pdf", src, {"text": "CONFIDENTIAL", "position": "bottom-right", "rotation": 0,
                                          "opacity": 40, "fontSize": 30}, tmp_path).outputs[0]
    for i in range(2):
        found, (w, h) = words(out, i)
        rect = dict(found)["CONFIDENTIAL"]
        assert rect.x0 > w / 2 and rect.y0 > h * 0.8
    with pikepdf.open(out) as pdf:
        alphas = [float(gs.get("/ca", 1)) for page in pdf.pages
                  for xobj in page.Resources.XObject.values()
                  for gs in xobj.get("/Resources", {}).get("/ExtGState", {}).values()]
        assert 0.4 in alphas
    assert markers(out) == [1, 2]


def test_watermark_upright_on_rotated_page_and_tiled(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 1)
    rotated = run_tool("rotate-pdf", src, {"angle": 90}, tmp_path).outputs[0]
    out = run_tool("watermark-pdf", rotated, {"text": "DRAFT", "position": "top-left", "rotation": 0}, tmp_path)
    found, (w, h) = words(out.outputs[0])
    rect = dict(found)["DRAFT"]
    assert w > h and rect.x0 < w / 4 and rect.y1 < h / 4  # visually top-left of the landscape view
    upright = run_tool("watermark-pdf", src, {"text": "SIDEWAYS", "rotation": 90, "fontSize": 40}, tmp_path)
    rect = dict(words(upright.outputs[0])[0])["SIDEWAYS"]
    assert rect.height > 3 * rect.width  # turned a quarter: the word runs up the page
    slanted = run_tool("watermark-pdf", src, {"text": "SLANT", "rotation": 45, "fontSize": 40}, tmp_path)
    with pikepdf.open(slanted.outputs[0]) as pdf:  # the 45-degree matrix is in the stamped content
        stamp = next(iter(pdf.pages[0].Resources.XObject.values())).read_bytes()
    assert b".7071" in stamp
    tiled = run_tool("watermark-pdf", src, {"text": "COPY", "position": "tile"}, tmp_path).outputs[0]
    assert [t for t, _ in words(tiled)[0]].count("COPY") >= 4
    with pytest.raises(ValidationError):
        run_tool("watermark-pdf", src, {"text": "  "}, tmp_path)


@pytest.mark.parametrize("position", ["bl", "bc", "br", "tl", "tc", "tr"])
def test_page_numbers_positions(tmp_path, position):
    src = numbered_pdf(tmp_path / "doc.pdf", 3)
    out = run_tool("pdf-page-numbers", src, {"position": position, "textFormat": "Page {n} of {total}"},
                   tmp_path).outputs[0]
    for i in range(3):
        found, (w, h) = words(out, i)
        assert f"Page {i + 1} of 3" in page_texts(out)[i]
        rect = next(r for t, r in found if t == str(i + 1))
        assert (rect.y0 > h * 0.9) if position[0] == "b" else (rect.y1 < h * 0.1)
        column = {"l": rect.x0 < w / 3, "c": w / 3 < rect.x0 < 2 * w / 3, "r": rect.x0 > w / 2}
        assert column[position[1]], (position, rect, w)


def test_page_numbers_start_and_rotated_page(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 2)
    rotated = run_tool("rotate-pdf", src, {"angle": 270, "range": "2"}, tmp_path).outputs[0]
    out = run_tool("pdf-page-numbers", rotated, {"position": "br", "startNumber": 7}, tmp_path).outputs[0]
    found, (w, h) = words(out, 1)
    rect = dict(found)["8"]
    assert w > h and rect.x0 > w / 2 and rect.y0 > h * 0.85


# ---- redact / text / word -----------------------------------------------------------------------
def _secret_pdf(path):
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle("Report about Project Falcon")
    c.drawString(72, 760, "The password is Swordfish and the project is Falcon.")
    c.drawString(72, 740, "Call 555-0123 about swordfish matters.")
    c.showPage()
    c.drawString(72, 760, "Second page mentions Falcon again.")
    c.showPage()
    c.save()
    return path


def test_redact_really_removes_text(tmp_path):
    src = _secret_pdf(tmp_path / "secret.pdf")
    assert "Swordfish" in pdftotext(src)
    result = run_tool("redact-pdf", src, {"terms": ["Swordfish", "Falcon", "555-0123"]}, tmp_path)
    out = result.outputs[0]
    text = pdftotext(out)
    assert "swordfish" not in text.lower() and "falcon" not in text.lower() and "555-0123" not in text
    assert "The password is" in text and "Second page mentions" in text
    with pikepdf.open(out) as pdf:
        page = pdf.pages[0]
        page.contents_coalesce()
        assert b"Swordfish" not in page.obj.Contents.read_bytes()
        assert "Falcon" not in str(pdf.docinfo.get("/Title", ""))
    assert result.extra["redactions"] == 5


def test_redact_case_sensitive(tmp_path):
    src = _secret_pdf(tmp_path / "secret.pdf")
    out = run_tool("redact-pdf", src, {"terms": ["Swordfish"], "caseSensitive": True}, tmp_path).outputs[0]
    text = pdftotext(out)
    assert "Swordfish" not in text and "swordfish matters" in text
    with pytest.raises(ValidationError):
        run_tool("redact-pdf", src, {"terms": []}, tmp_path)


def test_pdf_to_text(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 3, extra_text="Some body text")
    result = run_tool("pdf-to-text", src, {}, tmp_path)
    text = result.outputs[0].read_text()
    pages = text.split("\f")
    assert [marker(i) in pages[i - 1] for i in (1, 2, 3)] == [True] * 3
    assert result.extra["pages"] == 3 and "Some body text" in result.extra["text"]
    assert result.outputs[0].suffix == ".txt"


def test_pdf_to_word(tmp_path):
    src = numbered_pdf(tmp_path / "doc.pdf", 3, extra_text="Some body text here")
    photo = photo_pdf(tmp_path / "photo.pdf", size=200)
    both = run_tool("merge-pdf", [src, photo], {}, tmp_path).outputs[0]
    out = run_tool("pdf-to-word", both, {}, tmp_path).outputs[0]
    assert out.suffix == ".docx"
    document = Document(str(out))
    text = "\n".join(p.text for p in document.paragraphs)
    positions = [text.index(marker(i)) for i in (1, 2, 3)]
    assert positions == sorted(positions) and "Some body text here" in text and "Photo page" in text
    breaks = sum(1 for p in document.paragraphs for r in p.runs if 'w:br w:type="page"' in r._r.xml)
    assert breaks == 3
    assert len(document.inline_shapes) == 1


@pytest.mark.parametrize("tool_id, settings", [
    ("compress-pdf", {}), ("grayscale-pdf", {}), ("pdfa-convert", {}), ("crop-pdf", {}), ("nup-pdf", {}),
    ("booklet-pdf", {}), ("watermark-pdf", {"text": "x"}), ("pdf-page-numbers", {}),
    ("redact-pdf", {"terms": ["x"]}), ("pdf-to-text", {}), ("pdf-to-word", {}),
])
def test_bad_inputs_and_limits(docs, tmp_path, tool_id, settings):
    refused(tool_id, docs / "not-a-pdf.pdf", settings, tmp_path)
    refused(tool_id, docs / "ten.pdf", settings, tmp_path, status=413, limits=Limits(max_pdf_pages=3))
    locked = run_tool("protect-pdf", docs / "three.pdf", {"userPassword": "pw"}, tmp_path).outputs[0]
    assert "unlock-pdf" in refused(tool_id, locked, settings, tmp_path).message


@pytest.mark.parametrize("tool_id, settings", [
    ("watermark-pdf", {"text": "W"}), ("pdf-page-numbers", {}), ("nup-pdf", {}), ("booklet-pdf", {}),
    ("redact-pdf", {"terms": ["Marker"]}), ("pdf-to-word", {}), ("grayscale-pdf", {}), ("pdf-to-text", {}),
])
def test_a_damaged_content_stream_is_a_client_error_or_a_result(docs, tmp_path, tool_id, settings):
    """qpdf opens the file but page 1's content cannot be decoded: every tool either copes or answers a
    4xx with a safe message, never an unexpected exception (a 500)."""
    from tests.unit.documents.docpdfs import damaged_stream_pdf

    src = damaged_stream_pdf(tmp_path / "damaged.pdf", docs / "three.pdf")
    try:
        result = run_tool(tool_id, src, settings, tmp_path)
    except ToolError as err:
        assert 400 <= err.status < 500 and "/" not in err.message.replace("repair-pdf", "")
    else:
        assert result.outputs and result.outputs[0].stat().st_size > 0
