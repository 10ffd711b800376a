"""Document tools over HTTP against a real server: results read back, bad input as 4xx JSON."""

from __future__ import annotations

import io
import zipfile

import pikepdf
import pytest
from reportlab.lib.pagesizes import A4

from tests.helpers import settings_field, wait_job
from tests.unit.documents.docpdfs import markers, numbered_pdf


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("api-docs")
    numbered_pdf(folder / "ten.pdf", 10)
    numbered_pdf(folder / "three.pdf", 3)
    (folder / "fake.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf at all\n" * 10)
    (folder / "notes.txt").write_text("plain text, not a PDF\n")
    return folder


def post(client, tool, paths, settings=None, field="file"):
    paths = paths if isinstance(paths, list) else [paths]
    files = [(field, (p.name, p.read_bytes())) for p in paths]
    return client.post(f"/api/v1/tools/pdf/{tool}", files=files, data=settings_field(settings or {}))


def fetch(client, tmp_path, body, name="out.pdf"):
    r = client.get(body["downloadUrl"])
    assert r.status_code == 200
    path = tmp_path / name
    path.write_bytes(r.content)
    return path


def finished(client, r):
    """The 200 body of a fast tool, or the result of a 202 job."""
    assert r.status_code in (200, 202), r.text
    body = r.json()
    if r.status_code == 202:
        frame = wait_job(client, body["jobId"])
        assert frame["status"] == "completed", frame
        body = frame["result"]
    return body


def assert_error(r, status, code=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "code"}
    if code:
        assert body["code"] == code
    assert "/tmp" not in body["error"]


def test_merge_pdf_multi_file(client, pdfs, tmp_path):
    r = post(client, "merge-pdf", [pdfs / "three.pdf", pdfs / "ten.pdf"], field="files")
    body = finished(client, r)
    assert markers(fetch(client, tmp_path, body)) == [1, 2, 3, *range(1, 11)]
    assert_error(post(client, "merge-pdf", [pdfs / "three.pdf"], field="files"), 400)
    body = finished(client, post(client, "merge-pdf", [pdfs / "three.pdf"] * 20, field="files"))  # the most
    assert markers(fetch(client, tmp_path, body, "twenty.pdf")) == [1, 2, 3] * 20
    assert_error(post(client, "merge-pdf", [pdfs / "three.pdf"] * 21, field="files"), 400)


def test_split_pdf_zip(client, pdfs, tmp_path):
    body = finished(client, post(client, "split-pdf", pdfs / "ten.pdf", {"mode": "every", "everyN": 5}))
    assert body["downloadUrl"].endswith(".zip") and len(body["downloads"]) >= 2
    archive = zipfile.ZipFile(io.BytesIO(client.get(body["downloadUrl"]).content))
    assert len(archive.namelist()) == 2


def test_rotate_and_organize(client, pdfs, tmp_path):
    body = finished(client, post(client, "rotate-pdf", pdfs / "three.pdf", {"angle": 180, "range": "1"}))
    with pikepdf.open(fetch(client, tmp_path, body)) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [180, 0, 0]
    body = finished(client, post(client, "organize-pdf", pdfs / "ten.pdf", {"order": "z-8,1"}))
    assert markers(fetch(client, tmp_path, body, "o.pdf")) == [10, 9, 8, 1]
    body = finished(client, post(client, "extract-pages", pdfs / "ten.pdf", {"range": "2,4"}))
    assert markers(fetch(client, tmp_path, body, "e.pdf")) == [2, 4]
    body = finished(client, post(client, "remove-pages", pdfs / "three.pdf", {"pages": "2"}))
    assert markers(fetch(client, tmp_path, body, "r.pdf")) == [1, 3]


def test_rotate_pdf_turns_each_page_by_its_own_angle(client, pdfs, tmp_path):
    body = finished(client, post(client, "rotate-pdf", pdfs / "three.pdf", {"pageAngles": {"1": 270, "3": 180}}))
    assert body["rotatedPages"] == 2
    with pikepdf.open(fetch(client, tmp_path, body)) as pdf:
        assert [int(p.obj.get("/Rotate", 0)) for p in pdf.pages] == [270, 0, 180]
    assert_error(post(client, "rotate-pdf", pdfs / "three.pdf", {"pageAngles": {"4": 90}}), 400, "VALIDATION_ERROR")
    for bad in ({"0": 90}, {"1": 45}, {"x": 90}):
        assert_error(post(client, "rotate-pdf", pdfs / "three.pdf", {"pageAngles": bad}), 400, "VALIDATION_ERROR")
    both = post(client, "rotate-pdf", pdfs / "three.pdf", {"pageAngles": {"1": 90}, "range": "2"})
    assert_error(both, 400, "VALIDATION_ERROR")


def test_protect_unlock_and_encrypted_refused(client, pdfs, tmp_path):
    body = finished(client, post(client, "protect-pdf", pdfs / "three.pdf", {"userPassword": "pw1"}))
    locked = fetch(client, tmp_path, body, "locked.pdf")
    with pikepdf.open(locked, password="pw1") as pdf:
        assert pdf.is_encrypted and pdf.encryption.bits == 256
    assert_error(post(client, "rotate-pdf", locked, {"angle": 90}), 400, "VALIDATION_ERROR")
    assert_error(post(client, "unlock-pdf", locked, {"password": "nope"}), 400)
    body = finished(client, post(client, "unlock-pdf", locked, {"password": "pw1"}))
    with pikepdf.open(fetch(client, tmp_path, body, "open.pdf")) as pdf:
        assert not pdf.is_encrypted


def test_metadata_linearize_repair_flatten(client, pdfs, tmp_path):
    body = finished(client, post(client, "pdf-metadata", pdfs / "three.pdf", {"title": "T1", "author": "A1"}))
    assert body["metadata"]["title"] == "T1"
    with pikepdf.open(fetch(client, tmp_path, body)) as pdf:
        assert str(pdf.docinfo.Author) == "A1"
    body = finished(client, post(client, "linearize-pdf", pdfs / "three.pdf"))
    with pikepdf.open(fetch(client, tmp_path, body, "lin.pdf")) as pdf:
        assert pdf.is_linearized
    body = finished(client, post(client, "repair-pdf", pdfs / "three.pdf"))
    assert markers(fetch(client, tmp_path, body, "rep.pdf")) == [1, 2, 3]
    body = finished(client, post(client, "flatten-pdf", pdfs / "three.pdf"))
    assert markers(fetch(client, tmp_path, body, "flat.pdf")) == [1, 2, 3]


@pytest.mark.parametrize("tool, settings", [("rotate-pdf", {"angle": 90}), ("repair-pdf", {}),
                                            ("pdf-metadata", {}), ("split-pdf", {})])
def test_bad_inputs(client, pdfs, tool, settings):
    assert_error(post(client, tool, pdfs / "notes.txt", settings), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_error(post(client, tool, pdfs / "fake.pdf", settings), 400)


@pytest.mark.parametrize("tool, settings", [("rotate-pdf", {"angle": 45}), ("split-pdf", {"everyN": 0}),
                                            ("extract-pages", {}), ("protect-pdf", {}),
                                            ("extract-pages", {"range": "1-99"})])
def test_bad_settings(client, pdfs, tool, settings):
    assert_error(post(client, tool, pdfs / "three.pdf", settings), 400, "VALIDATION_ERROR")


def test_max_pdf_pages(make_server, pdfs):
    srv = make_server(max_pdf_pages=5)
    with srv.client() as c:
        assert_error(post(c, "rotate-pdf", pdfs / "ten.pdf", {"angle": 90}), 413, "PAYLOAD_TOO_LARGE")
        assert finished(c, post(c, "rotate-pdf", pdfs / "three.pdf", {"angle": 90}))["jobId"]


# ---- office (warm LibreOffice owned by the server's DocumentActor) -------------------------------
@pytest.fixture(scope="module")
def office_files(tmp_path_factory):
    from docx import Document

    folder = tmp_path_factory.mktemp("api-office")
    doc = Document()
    doc.add_paragraph("Hello from the API office test")
    doc.save(folder / "letter.docx")
    (folder / "table.csv").write_text("a,b\n1,2\n3,4\n")
    (folder / "fake.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    return folder


def test_word_to_pdf_is_long_and_converts(client, office_files, tmp_path):
    r = post(client, "word-to-pdf", office_files / "letter.docx")
    assert r.status_code == 202 and r.json()["async"] is True
    body = finished(client, r)
    from tests.unit.documents.docpdfs import page_texts
    assert "Hello from the API office test" in page_texts(fetch(client, tmp_path, body))[0]


def test_convert_spreadsheet_csv_to_xlsx(client, office_files, tmp_path):
    body = finished(client, post(client, "convert-spreadsheet", office_files / "table.csv", {"format": "xlsx"}))
    path = fetch(client, tmp_path, body, "t.xlsx")
    with zipfile.ZipFile(path) as zf:
        assert "xl/workbook.xml" in zf.namelist()
        shared = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>4</v>" in shared or ">4<" in shared


def test_office_bad_input_fails_the_job_with_400(client, office_files, pdfs):
    r = post(client, "word-to-pdf", office_files / "fake.docx")
    frame = wait_job(client, r.json()["jobId"]) if r.status_code == 202 else r.json()
    assert frame.get("status") == "failed" and frame.get("code") == "VALIDATION_ERROR"
    assert_error(post(client, "convert-document", pdfs / "three.pdf", {"format": "odt"}), 415)
    assert_error(post(client, "convert-document", office_files / "letter.docx", {"format": "pdf"}), 400)


# ---- web and e-books ----------------------------------------------------------------------------
def test_markdown_tools_over_http(client, tmp_path):
    md = tmp_path / "notes.md"
    md.write_text("# Heading One\n\nSome *notes* here.\n")
    r = post(client, "markdown-to-html", md)
    assert r.status_code == 200, r.text
    assert "<h1 id=\"heading-one\">Heading One</h1>" in client.get(r.json()["downloadUrl"]).text
    r = post(client, "markdown-to-pdf", md)
    assert r.status_code == 202
    from tests.unit.documents.docpdfs import page_texts
    assert "Heading One" in page_texts(fetch(client, tmp_path, finished(client, r)))[0]
    book = fetch(client, tmp_path, finished(client, post(client, "to-epub", md)), "b.epub")
    with zipfile.ZipFile(book) as zf:
        assert zf.read("mimetype") == b"application/epub+zip"
    body = finished(client, post(client, "epub-convert", book, {"format": "md"}))
    assert "Heading One" in client.get(body["downloadUrl"]).text
    assert_error(post(client, "epub-convert", md, {"format": "md"}), 415)
    assert_error(post(client, "epub-convert", book, {"format": "odt"}), 400, "VALIDATION_ERROR")


# ---- every other document tool through its route, read back ----------------------------------------
def _pdf_text(path):
    from tests.unit.documents.docpdfs import page_texts

    return page_texts(path)


def _pdfa_part(path):
    with pikepdf.open(path) as pdf:
        return pdf.open_metadata()["pdfaid:part"]


def _cropbox(path):
    with pikepdf.open(path) as pdf:
        return [float(v) for v in pdf.pages[0].cropbox]


@pytest.mark.parametrize("tool, settings, check", [
    ("compress-pdf", {"quality": 30}, lambda p, b: markers(p) == [1, 2, 3] and b["compressed"] in (True, False)),
    ("grayscale-pdf", {}, lambda p, b: markers(p) == [1, 2, 3]),
    ("pdfa-convert", {}, lambda p, b: b["pdfa"] == "PDF/A-2b" and _pdfa_part(p) == "2"),
    ("crop-pdf", {"margin": 20}, lambda p, b: _cropbox(p) == pytest.approx([20, 20, A4[0] - 20, A4[1] - 20])),
    ("nup-pdf", {"perSheet": 4}, lambda p, b: len(_pdf_text(p)) == 1 and b["grid"] == "2x2"),
    ("booklet-pdf", {"perSheet": 2}, lambda p, b: len(_pdf_text(p)) == 2 and b["blankPages"] == 1),
    ("watermark-pdf", {"text": "APIMARK", "position": "center", "fontSize": 30, "opacity": 50, "rotation": 30},
     lambda p, b: all("APIMARK" in t for t in _pdf_text(p))),
    ("pdf-page-numbers", {"position": "tr", "fontSize": 10, "textFormat": "p{n}/{total}"},
     lambda p, b: ["p1/3" in t for t in _pdf_text(p)] == [True, False, False] and "p3/3" in _pdf_text(p)[2]),
    ("redact-pdf", {"terms": ["Marker002"], "caseSensitive": True},
     lambda p, b: b["redactions"] == 1 and "Marker002" not in "".join(_pdf_text(p)) and markers(p)[0] == 1),
    ("pdf-to-text", {}, lambda p, b: b["pages"] == 3 and "Marker003" in b["text"]),
])
def test_pdf_rewriting_tools_over_http(client, pdfs, tmp_path, tool, settings, check):
    body = finished(client, post(client, tool, pdfs / "three.pdf", settings))
    path = fetch(client, tmp_path, body, "out.txt" if tool == "pdf-to-text" else "out.pdf")
    assert check(path, body), body
    assert_error(post(client, tool, pdfs / "fake.pdf", settings), 400)
    assert_error(post(client, tool, pdfs / "notes.txt", settings), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_pdf_to_word_and_bad_settings_over_http(client, pdfs, tmp_path):
    from docx import Document

    r = post(client, "pdf-to-word", pdfs / "three.pdf")
    assert r.status_code == 202  # a LONG tool
    doc = Document(str(fetch(client, tmp_path, finished(client, r), "out.docx")))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert text.index("Marker001") < text.index("Marker002") < text.index("Marker003")
    for tool, settings in [("compress-pdf", {"quality": 0}), ("compress-pdf", {"mode": "targetSize"}),
                           ("crop-pdf", {"margin": 2001}), ("nup-pdf", {"perSheet": 5}),
                           ("booklet-pdf", {"perSheet": 3}), ("pdf-page-numbers", {"position": "middle"}),
                           ("watermark-pdf", {}), ("redact-pdf", {"terms": []})]:
        assert_error(post(client, tool, pdfs / "three.pdf", settings), 400, "VALIDATION_ERROR")


def test_other_office_tools_over_http(client, office_files, tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    from tests.unit.documents.docpdfs import page_texts

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "API Slide"
    slide.shapes.add_textbox(Inches(1), Inches(3), Inches(4), Inches(1)).text_frame.text = "slide body"
    deck.save(tmp_path / "deck.pptx")
    body = finished(client, post(client, "convert-document", office_files / "letter.docx", {"format": "odt"}))
    with zipfile.ZipFile(fetch(client, tmp_path, body, "l.odt")) as zf:
        assert "Hello from the API office test" in zf.read("content.xml").decode()
    body = finished(client, post(client, "convert-presentation", tmp_path / "deck.pptx", {"format": "odp"}))
    with zipfile.ZipFile(fetch(client, tmp_path, body, "d.odp")) as zf:
        assert "API Slide" in zf.read("content.xml").decode()
    body = finished(client, post(client, "powerpoint-to-pdf", tmp_path / "deck.pptx"))
    assert "API Slide" in page_texts(fetch(client, tmp_path, body, "d.pdf"))[0]
    body = finished(client, post(client, "excel-to-pdf", office_files / "table.csv"))
    text = page_texts(fetch(client, tmp_path, body, "t.pdf"))[0]
    assert "1" in text and "4" in text
    r = post(client, "convert-presentation", office_files / "letter.docx", {"format": "odp"})  # not a deck
    frame = wait_job(client, r.json()["jobId"]) if r.status_code == 202 else r.json()
    assert frame.get("status") == "failed" and frame.get("code") == "VALIDATION_ERROR"
    assert "presentation" in frame["error"] and "/tmp" not in frame["error"]
    assert_error(post(client, "convert-spreadsheet", office_files / "table.csv", {"format": "pdf"}), 400,
                 "VALIDATION_ERROR")


def test_html_to_pdf_and_markdown_to_docx_over_http(client, tmp_path):
    from docx import Document

    from tests.unit.documents.docpdfs import page_texts

    page = tmp_path / "page.html"
    page.write_text('<html><body><h1>Invoice 7</h1><img src="http://127.0.0.1:9/x.png"></body></html>')
    r = post(client, "html-to-pdf", page)
    assert r.status_code == 202
    assert "Invoice 7" in page_texts(fetch(client, tmp_path, finished(client, r)))[0]
    md = tmp_path / "n.md"
    md.write_text("# Title Here\n\nBody *text*.\n")
    body = finished(client, post(client, "markdown-to-docx", md))
    doc = Document(str(fetch(client, tmp_path, body, "n.docx")))
    assert [p.text for p in doc.paragraphs if p.text] == ["Title Here", "Body text."]


def test_a_truncated_bmp_is_still_400_after_an_html_render(make_server, tmp_path):
    """WeasyPrint (html-to-pdf) sets Pillow's process-wide LOAD_TRUNCATED_IMAGES when it is imported, which
    turns a truncated upload into a grey picture. The documents actor has worker processes of its own, so
    no image decode runs in a process that imported it. (No sandbox and one job slot: without workers of
    its own, the documents actor would share its one worker process with the image actor.)"""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (300, 150), (200, 10, 10)).save(buffer, "BMP")
    cut = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Rendered first</h1></body></html>")
    srv = make_server(sandbox="false", concurrent_jobs="1")
    with srv.client() as c:
        finished(c, post(c, "html-to-pdf", page))
        for _ in range(3):
            r = c.post("/api/v1/tools/image/resize", files={"file": ("cut.bmp", cut)},
                       data=settings_field({"width": 10}))
            assert_error(r, 400)
