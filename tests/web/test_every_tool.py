"""Walks the registry: every tool page opens without a console error, and every tool whose form runs as it
opens (no required setting, no required second input, its AI bundle installed) runs on a small real input
of a kind it accepts and shows a result."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import httpx
import pytest
import pyvips
from PIL import Image

from protocols.tools import REGISTRY
from service.web.forms import needs_extra_input
from tests.api._workspace import make_pdf

# text tools read one format each
TEXT_INPUT = {
    "html-to-pdf": "page.html", "markdown-to-docx": "doc.md", "markdown-to-html": "doc.md", "markdown-to-pdf": "doc.md",
    "chart-maker": "data.csv", "csv-json": "data.csv", "json-xml": "data.json", "split-csv": "data.csv",
    "xml-to-csv": "data.xml", "yaml-json": "data.yaml", "convert-document": "doc.docx", "word-to-pdf": "doc.docx",
    "convert-spreadsheet": "data.csv", "excel-to-pdf": "data.csv", "csv-excel": "data.csv", "to-epub": "doc.md",
    "merge-csvs": "data.csv", "gif-to-video": "anim.gif", "extract-zip": "files.zip", "epub-convert": "book.epub",
    "gif-webp": "anim.gif", "video-to-frames": "clip.mp4", "extract-subtitles": "subtitled.mkv",
    "split-audio": "long.wav",
}
BY_KIND = {"image": "photo.jpg", "video": "clip.mp4", "audio": "tone.wav", "pdf": "doc.pdf", "svg": "logo.svg",
           "office": "slides.pptx", "zip": "files.zip", "epub": "book.epub", "text": "data.csv"}


def build_inputs(folder: Path) -> Path:
    pyvips.Image.xyz(320, 240)[0].cast("uchar").bandjoin([pyvips.Image.xyz(320, 240)[1].cast("uchar"),
                                                        pyvips.Image.black(320, 240) + 90]).jpegsave(str(folder / "photo.jpg"))
    frames = [Image.new("RGB", (64, 48), (i * 60, 80, 160)) for i in range(4)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    ffmpeg = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
    subprocess.run([*ffmpeg, "-f", "lavfi", "-i", "testsrc=duration=1:size=320x240:rate=10", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=1", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
                    "-c:a", "aac", "-shortest", str(folder / "clip.mp4")], check=True, timeout=60)
    (folder / "subs.srt").write_text("1\n00:00:00,000 --> 00:00:00,900\nHello\n")
    subprocess.run([*ffmpeg, "-i", str(folder / "clip.mp4"), "-i", str(folder / "subs.srt"), "-c", "copy", "-c:s", "srt",
                    str(folder / "subtitled.mkv")], check=True, timeout=60)
    for name, seconds in (("tone.wav", 6), ("long.wav", 31)):  # split-audio's pieces are 30 s
        subprocess.run([*ffmpeg, "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-ac", "1", "-ar", "22050",
                        str(folder / name)], check=True, timeout=60)
    make_pdf(folder / "doc.pdf", pages=2)
    (folder / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                                     '<circle cx="32" cy="32" r="28" fill="teal"/></svg>')
    (folder / "data.csv").write_text("name,qty,price\napple,3,1.5\npear,5,2.25\nplum,7,0.5\n")
    (folder / "data.json").write_text(json.dumps({"items": [{"name": "apple", "qty": 3}, {"name": "pear", "qty": 5}]}))
    (folder / "data.yaml").write_text("items:\n  - name: apple\n    qty: 3\n  - name: pear\n    qty: 5\n")
    (folder / "data.xml").write_text("<items><item><name>apple</name><qty>3</qty></item>"
                                     "<item><name>pear</name><qty>5</qty></item></items>")
    (folder / "doc.md").write_text("# Title\n\nSome *text* and a list:\n\n- one\n- two\n")
    (folder / "page.html").write_text("<!DOCTYPE html><html><body><h1>Hello</h1><p>A page.</p></body></html>")
    import docx
    import pptx

    d = docx.Document()
    d.add_heading("Report", 1)
    d.add_paragraph("A paragraph of text.")
    d.save(folder / "doc.docx")
    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Slide one"
    deck.save(folder / "slides.pptx")
    with zipfile.ZipFile(folder / "files.zip", "w") as z:
        z.writestr("a.txt", "first\n")
        z.writestr("b.txt", "second\n")
    with zipfile.ZipFile(folder / "book.epub", "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", '<?xml version="1.0"?><container version="1.0" '
                   'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile '
                   'full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>')
        z.writestr("content.opf", '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
                   'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">x'
                   '</dc:identifier><dc:title>Book</dc:title><dc:language>en</dc:language><meta property="dcterms:modified">'
                   '2024-01-01T00:00:00Z</meta></metadata><manifest><item id="c" href="c.xhtml" '
                   'media-type="application/xhtml+xml"/><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" '
                   'properties="nav"/></manifest><spine><itemref idref="c"/></spine></package>')
        z.writestr("nav.xhtml", '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml" '
                   'xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol><li><a href="c.xhtml">C</a>'
                   '</li></ol></nav></body></html>')
        z.writestr("c.xhtml", '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>C</title>'
                   '</head><body><h1>Chapter</h1><p>Text.</p></body></html>')
    return folder


def input_for(tool_id: str, folder: Path) -> Path:
    spec = REGISTRY[tool_id]
    if tool_id in TEXT_INPUT:
        return folder / TEXT_INPUT[tool_id]
    kinds = sorted(spec.accepts) or ["image"]
    kind = "image" if "image" in kinds else kinds[0]
    return folder / BY_KIND[kind]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    return build_inputs(tmp_path_factory.mktemp("inputs"))


def tools() -> list[str]:
    from actors import catalog

    catalog.load()
    return sorted(s.id for s in REGISTRY.values() if not s.is_subroute)


def test_every_tool_page_opens_and_each_that_runs_as_it_opens_gives_a_result(server, open_page, inputs):
    missing_bundle = set()
    with server.client() as c:
        for bundle in c.get("/api/v1/features").json()["bundles"]:
            if not bundle["installed"]:
                missing_bundle.update(bundle["enabledTools"])
    w = open_page(server)
    page = w.page
    page.set_default_timeout(180_000)
    failures, ran, skipped = [], [], []
    for tool_id in tools():
        spec = REGISTRY[tool_id]
        w.errors.clear()
        response = w.goto(f"/tools/{tool_id}")
        if response.status != 200 or w.errors:
            failures.append((tool_id, "page", response.status, list(w.errors)))
            continue
        if needs_extra_input(spec) or tool_id in missing_bundle:
            skipped.append(tool_id)
            continue
        if spec.inputs[1] > 0 and spec.body != "json":
            path = input_for(tool_id, inputs)
            count = max(1, spec.inputs[0])
            page.locator("#input-file").set_input_files([str(path)] * count if count > 1 else str(path))
        page.get_by_role("button", name="Run").click()
        outcome = page.locator("#result .actions a[download], .form-error:not([hidden])")
        outcome.first.wait_for()
        if page.locator(".form-error").is_visible():
            failures.append((tool_id, "run", page.locator(".form-error").inner_text(), []))
            continue
        link = page.locator("#result .actions a[download]").first.get_attribute("href")
        body = httpx.get(server.base_url + link, timeout=60)
        if body.status_code != 200 or not body.content:
            failures.append((tool_id, "download", body.status_code, []))
        if w.errors:
            failures.append((tool_id, "console", "", list(w.errors)))
        ran.append(tool_id)
    print(f"\n{len(ran)} tools ran, {len(skipped)} need more than their defaults: {', '.join(skipped)}")
    assert not failures, "\n".join(map(str, failures))
    assert len(ran) > 100

