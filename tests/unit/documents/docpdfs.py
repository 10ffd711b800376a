"""Generated PDFs for the document tests (reportlab at test time) and ways to read results back."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
from reportlab.lib.colors import red
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def marker(n: int) -> str:
    return f"Marker{n:03d}"


def numbered_pdf(path: Path, pages: int, *, size=A4, color=None, extra_text: str | None = None) -> Path:
    """One marker per page ('Marker001'...), so that order and selection can be read back."""
    c = canvas.Canvas(str(path), pagesize=size)
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 24)
        if color is not None:
            c.setFillColor(color)
            c.rect(50, 50, 200, 200, fill=1, stroke=0)
        c.setFillColorRGB(0, 0, 0)
        c.drawString(72, size[1] - 100, marker(n))
        if extra_text:
            c.setFont("Helvetica", 12)
            c.drawString(72, size[1] - 140, extra_text)
        c.showPage()
    c.save()
    return path


def red_pdf(path: Path, pages: int = 2) -> Path:
    return numbered_pdf(path, pages, color=red)


def page_texts(path: Path) -> list[str]:
    doc = pdfium.PdfDocument(str(path))
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def markers(path: Path) -> list[int]:
    """The marker number found on each page (0 if none)."""
    found = []
    for text in page_texts(path):
        nums = [int(text[i + 6:i + 9]) for i in range(len(text)) if text.startswith("Marker", i)]
        found.append(nums[0] if len(nums) == 1 else (0 if not nums else -1))
    return found


def pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True,
                          timeout=60).stdout.decode()


def page_count(path: Path, password: str = "") -> int:
    with pikepdf.open(path, password=password) as pdf:
        return len(pdf.pages)


def damaged_stream_pdf(path: Path, source: Path) -> Path:
    """`source` with page 1's content stream claiming FlateDecode over bytes that are not deflate data:
    qpdf opens the file, but reading that page's content fails (and MuPDF complains)."""
    with pikepdf.open(source) as pdf:
        page = pdf.pages[0]
        page.obj.Contents = pdf.make_stream(b"")
        page.obj.Contents.write(b"x\x9c this is not deflate data at all" * 5, filter=pikepdf.Name.FlateDecode)
        pdf.save(path)
    return path


def bad_info_key_pdf(path: Path, source: Path) -> Path:
    """`source` whose Info dictionary has a key that is not UTF-8 (/Aut#82r, as a damaged file has)."""
    with pikepdf.open(source) as pdf:
        pdf.docinfo["/Author"] = "Ada"
        pdf.save(path, compress_streams=False, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"/Author", b"/Aut#82r", 1))
    return path


def broken_tree_pdf(path: Path, source: Path) -> Path:
    """`source` (as reportlab wrote it) with page 1's dictionary left unclosed and a stray '/' before the
    page tree's /Count: qpdf opens it, but flattening the page tree fails with a runtime error of its own."""
    data = source.read_bytes()
    data = data.replace(b"/Type /Page\n>>", b"/Type /Page\n>j", 1)
    data = data.replace(b"<<\n/Count", b"<<//Count", 1)
    path.write_bytes(data)
    return path
