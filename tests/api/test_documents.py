"""Document tools over HTTP against a real server: results read back, bad input as 4xx JSON."""

from __future__ import annotations

import io
import zipfile

import pikepdf
import pytest

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
