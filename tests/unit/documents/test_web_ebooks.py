"""HTML, Markdown and e-book tools: results read back (text, structure), and no fetches while rendering."""

from __future__ import annotations

import base64
import io
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pikepdf
import pytest
from docx import Document
from PIL import Image

from protocols.errors import ToolError
from tests.helpers import run_tool
from tests.unit.documents.docpdfs import page_texts

MARKDOWN = """# Field Guide

Otters are **semi-aquatic** mammals.

| Species | Weight |
|---|---|
| Sea otter | 45 kg |

```
code block line
```

## Second Chapter

More text about rivers.
"""


@pytest.fixture()
def spy_server():
    """A local HTTP server that records every request: rendering must make none."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def png_data_uri() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 128, 255)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def count_images(pdf_path) -> int:
    with pikepdf.open(pdf_path) as pdf:
        return sum(1 for page in pdf.pages for _ in page.get_images())


def test_markdown_to_html(tmp_path):
    src = tmp_path / "guide.md"
    src.write_text(MARKDOWN)
    out = run_tool("markdown-to-html", src, {}, tmp_path).outputs[0]
    html = out.read_text()
    assert out.suffix == ".html" and html.startswith("<!DOCTYPE html>")
    assert "<strong>semi-aquatic</strong>" in html and "<table>" in html and "<td>Sea otter</td>" in html
    assert 'id="second-chapter"' in html and "<title>guide</title>" in html


def test_markdown_to_pdf_offline(tmp_path, spy_server):
    base, hits = spy_server
    src = tmp_path / "guide.md"
    src.write_text(MARKDOWN + f"\n![remote]({base}/remote.png)\n\n![inline]({png_data_uri()})\n"
                   f'\n<link rel="stylesheet" href="{base}/style.css">\n<img src="file:///etc/hostname">\n')
    result = run_tool("markdown-to-pdf", src, {}, tmp_path)
    text = "\n".join(page_texts(result.outputs[0]))
    assert "Field Guide" in text and "Sea otter" in text and "code block line" in text
    assert hits == []  # nothing was fetched
    assert count_images(result.outputs[0]) == 1  # only the inline data: image


def test_html_to_pdf_offline(tmp_path, spy_server):
    base, hits = spy_server
    src = tmp_path / "page.html"
    src.write_text(f"""<!doctype html><html><head><link rel="stylesheet" href="{base}/a.css">
        <style>@import url("{base}/b.css"); @font-face {{ font-family: X; src: url("{base}/f.woff"); }}</style>
        </head><body><h1>Invoice 42</h1><p>Total due: 99 EUR</p>
        <img src="{base}/pixel.png"><img src="{png_data_uri()}"><iframe src="file:///etc/passwd"></iframe>
        <div style="background: url('{base}/bg.png')">bg</div></body></html>""")
    result = run_tool("html-to-pdf", src, {}, tmp_path)
    text = page_texts(result.outputs[0])[0]
    assert "Invoice 42" in text and "Total due: 99 EUR" in text and "root:" not in text
    assert hits == []
    assert count_images(result.outputs[0]) == 1


def test_markdown_to_docx(tmp_path):
    src = tmp_path / "guide.md"
    src.write_text(MARKDOWN)
    out = run_tool("markdown-to-docx", src, {}, tmp_path).outputs[0]
    doc = Document(str(out))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["Field Guide", "Second Chapter"]
    assert doc.tables[0].cell(1, 0).text == "Sea otter"


@pytest.fixture()
def book(tmp_path):
    src = tmp_path / "guide.md"
    src.write_text(MARKDOWN)
    result = run_tool("to-epub", src, {"title": "Otter Book", "author": "A. Lutra"}, tmp_path)
    return result.outputs[0]


def test_to_epub_from_markdown(book):
    with zipfile.ZipFile(book) as zf:
        assert zf.read("mimetype") == b"application/epub+zip"
        opf = next(n for n in zf.namelist() if n.endswith(".opf"))
        meta = zf.read(opf).decode()
        assert "Otter Book" in meta and "A. Lutra" in meta
        body = " ".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml"))
    assert "semi-aquatic" in body and "Second Chapter" in body


@pytest.mark.parametrize("name, content", [
    ("notes.txt", "Plain first paragraph.\n\nPlain second paragraph.\n"),
    ("page.html", "<html><body><h1>Web Title</h1><p>Plain first paragraph.</p></body></html>"),
])
def test_to_epub_from_text_and_html(tmp_path, name, content):
    src = tmp_path / name
    src.write_text(content)
    out = run_tool("to-epub", src, {}, tmp_path).outputs[0]
    with zipfile.ZipFile(out) as zf:
        body = " ".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml"))
    assert "Plain first paragraph." in body


def test_to_epub_from_docx(tmp_path):
    doc = Document()
    doc.add_heading("Docx Chapter", 1)
    doc.add_paragraph("Paragraph from Word.")
    src = tmp_path / "word.docx"
    doc.save(src)
    out = run_tool("to-epub", src, {}, tmp_path).outputs[0]
    with zipfile.ZipFile(out) as zf:
        body = " ".join(zf.read(n).decode() for n in zf.namelist() if n.endswith(".xhtml"))
    assert "Docx Chapter" in body and "Paragraph from Word." in body


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html", "md"])
def test_epub_convert(book, tmp_path, fmt):
    out = run_tool("epub-convert", book, {"format": fmt}, tmp_path).outputs[0]
    assert out.suffix == f".{fmt}"
    if fmt == "pdf":
        text = "\n".join(page_texts(out))
    elif fmt == "docx":
        doc = Document(str(out))
        text = "\n".join(p.text for p in doc.paragraphs) + "".join(c.text for t in doc.tables for r in t.rows
                                                                   for c in r.cells)
    else:
        text = out.read_text()
    assert "semi-aquatic" in text and "Second Chapter" in text and "Sea otter" in text


def test_bad_inputs(tmp_path):
    binary = tmp_path / "x.md"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    for tool_id in ("markdown-to-html", "markdown-to-pdf", "markdown-to-docx", "html-to-pdf", "to-epub"):
        with pytest.raises(ToolError) as err:
            run_tool(tool_id, binary, {}, tmp_path)
        assert err.value.status == 400
    not_epub = tmp_path / "book.epub"
    with zipfile.ZipFile(not_epub, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ToolError) as err:
        run_tool("epub-convert", not_epub, {"format": "md"}, tmp_path)
    assert err.value.status == 400
    plain = tmp_path / "plain.html"
    plain.write_text("no markup at all")
    with pytest.raises(ToolError):
        run_tool("html-to-pdf", plain, {}, tmp_path)


def test_pandoc_tools_fetch_nothing(tmp_path, spy_server):
    base, hits = spy_server
    (tmp_path / "secret.png").write_bytes(b"not for you")
    src = tmp_path / "refs.md"
    src.write_text(f"# Refs\n\n![remote]({base}/a.png)\n\n![local](/etc/hostname)\n\n![up](../secret.png)\n\n"
                   f'<img src="{base}/raw.png">\n\nKept text.\n')
    result = run_tool("markdown-to-docx", src, {}, tmp_path)
    assert hits == [] and result.extra["droppedReferences"] == 4
    doc = Document(str(result.outputs[0]))
    assert "Kept text." in [p.text for p in doc.paragraphs] and len(doc.inline_shapes) == 0
    html = tmp_path / "refs.html"
    html.write_text(f'<html><body><p>Chapter text</p><img src="{base}/b.png"><img src="/etc/hostname"></body></html>')
    book = run_tool("to-epub", html, {}, tmp_path).outputs[0]
    assert hits == []
    with zipfile.ZipFile(book) as zf:
        assert not [n for n in zf.namelist() if n.endswith((".png", "hostname"))]


def test_embedded_images_survive_and_local_files_do_not_leak(tmp_path):
    pic = tmp_path / "pic.png"
    Image.new("RGB", (30, 20), (200, 30, 30)).save(pic)
    doc = Document()
    doc.add_paragraph("Picture below")
    doc.add_picture(str(pic))
    src = tmp_path / "pics.docx"
    doc.save(src)
    book = run_tool("to-epub", src, {}, tmp_path).outputs[0]
    with zipfile.ZipFile(book) as zf:
        assert [n for n in zf.namelist() if n.endswith(".png")]  # the Word image is in the book
    back = run_tool("epub-convert", book, {"format": "docx"}, tmp_path).outputs[0]
    assert len(Document(str(back)).inline_shapes) == 1
    # an EPUB whose chapter points at a server file: the file must not end up in the output
    evil = tmp_path / "evil.epub"
    with zipfile.ZipFile(book) as zf, zipfile.ZipFile(evil, "w") as out:
        for item in zf.infolist():
            data = zf.read(item)
            if item.filename.endswith(".xhtml") and b"Picture below" in data:
                data = data.replace(b"<p>Picture below</p>",
                                    b'<p>Picture below</p><img src="/etc/hostname" alt="h"/>'
                                    b'<img src="../../../../etc/hostname" alt="h2"/>')
            out.writestr(item, data)
    leaked = run_tool("epub-convert", evil, {"format": "docx"}, tmp_path).outputs[0]
    hostname = Path("/etc/hostname").read_bytes().strip()
    with zipfile.ZipFile(leaked) as zf:
        assert not any(hostname in zf.read(n) for n in zf.namelist() if "media" in n)
        assert len([n for n in zf.namelist() if "media/" in n]) == 1


def _deflated_with_broken_mimetype(path, mimetype: bytes, extra: dict[str, bytes]) -> Path:
    """A ZIP whose first entry 'mimetype' is deflated and then damaged: reading it raises zlib.error."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("mimetype", mimetype * 40)
        for name, data in extra.items():
            zf.writestr(name, data)
    data = bytearray(path.read_bytes())
    start = 30 + len("mimetype")
    data[start: start + 8] = b"\xff" * 8
    path.write_bytes(bytes(data))
    return path


def test_archives_that_do_not_inflate_are_400(tmp_path):
    """An EPUB (or an ODF document) whose parts fail to inflate: a clear 400, not an unexpected error."""
    from actors.documents import _office_input

    book = _deflated_with_broken_mimetype(tmp_path / "b.epub", b"application/epub+zip",
                                          {"META-INF/container.xml": b"<container/>"})
    with pytest.raises(ToolError) as err:
        run_tool("epub-convert", book, {"format": "md"}, tmp_path)
    assert err.value.status == 400 and "EPUB" in err.value.message
    odt = _deflated_with_broken_mimetype(tmp_path / "d.odt", b"application/vnd.oasis.opendocument.text",
                                         {"content.xml": b"<x/>"})
    assert _office_input.detect(odt) is None
    with pytest.raises(ToolError) as err:
        _office_input.check_input(odt, "d.odt", "document")
    assert err.value.status == 400
