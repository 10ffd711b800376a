"""Image tools part 2 over HTTP against a real server: utilities, layout, format & conversion, sub-routes,
JSON-body tools, multi-file tools, batch, and bad input as 4xx JSON."""

from __future__ import annotations

import http.server
import io
import json
import socketserver
import threading
import zipfile

import pytest
import pyvips
from PIL import Image

from tests.helpers import settings_field


def png_bytes(w=120, h=80, rgb=(255, 0, 0)):
    buf = io.BytesIO()
    Image.new("RGB", (w, h), rgb).save(buf, "PNG")
    return buf.getvalue()


def gif_bytes(frames=3, size=(60, 40)):
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    images = [Image.new("RGB", size, colours[i % 3]) for i in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buf.getvalue()


def pdf_bytes():
    pages = [Image.new("RGB", (200, 100), (0, 0, 255)), Image.new("RGB", (100, 100), (0, 255, 0))]
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=72)
    return buf.getvalue()


SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#00f"/>'
       b'<script>alert(1)</script></svg>')


def post(client, tool, files, settings=None, section="image"):
    return client.post(f"/api/v1/tools/{section}/{tool}", files=files, data=settings_field(settings or {}))


def fetch_image(client, url):
    r = client.get(url)
    assert r.status_code == 200
    return pyvips.Image.new_from_buffer(r.content, "")


def assert_error(r, status, code=None):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "code"}
    if code:
        assert body["code"] == code


def test_info_body_and_bad_input(client, samples):
    r = post(client, "info", {"file": ("photo.png", (samples / "photo.png").read_bytes())})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["width"], body["height"], body["format"], body["hasAlpha"]) == (400, 300, "png", False)
    assert json.loads(client.get(body["downloadUrl"]).content)["channels"] == 3
    assert_error(post(client, "info", {"file": ("bad.jpg", (samples / "corrupt.jpg").read_bytes())}), 400)
    assert_error(post(client, "info", {"file": ("t.png", b"just text\n")}), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_compare_needs_two_files(client, samples):
    data = (samples / "photo.png").read_bytes()
    r = client.post("/api/v1/tools/image/compare", files=[("file", ("a.png", data)), ("file", ("b.png", data))],
                    data=settings_field({"mode": "side-by-side"}))
    assert r.status_code == 200, r.text
    assert r.json()["identical"] is True and r.json()["similarity"] == 100
    assert fetch_image(client, r.json()["downloadUrl"]).width == 800
    assert_error(post(client, "compare", {"file": ("a.png", data)}), 400, "VALIDATION_ERROR")
    assert_error(client.post("/api/v1/tools/image/compare", files=[("file", ("a.png", data)), ("file", ("b.png", data))],
                             data=settings_field({"diffThreshold": 999})), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("tool, field", [("compose", "file"), ("watermark-image", "file"), ("compare", "file"),
                                         ("stitch", "files"), ("sprite-sheet", "files"), ("find-duplicates", "files")])
def test_multi_file_tools_refuse_a_missing_second_file(client, tool, field):
    r = client.post(f"/api/v1/tools/image/{tool}", files=[(field, ("only.png", png_bytes()))])
    assert_error(r, 400, "VALIDATION_ERROR")
    assert "needs at least 2 files" in r.json()["error"], r.text


def test_find_duplicates_multi(client):
    red, blue = png_bytes(rgb=(255, 0, 0)), png_bytes(64, 64, (0, 0, 255))
    checker = io.BytesIO()
    img = Image.new("RGB", (64, 64), (255, 255, 255))
    for x in range(0, 64, 16):
        for y in range(0, 64, 16):
            if (x + y) // 16 % 2:
                img.paste((0, 0, 0), (x, y, x + 16, y + 16))
    img.save(checker, "PNG")
    r = client.post("/api/v1/tools/image/find-duplicates",
                    files=[("files", ("a.png", checker.getvalue())), ("files", ("b.png", checker.getvalue())),
                           ("files", ("c.png", red)), ("files", ("d.png", blue))])
    assert r.status_code == 200, r.text
    groups = r.json()["groups"]
    assert any({f["name"] for f in g["files"]} == {"a.png", "b.png"} for g in groups)


def test_barcode_generate_json_then_read(client):
    r = client.post("/api/v1/tools/image/barcode-generate", json={"text": "LUTRA-42", "type": "code128"})
    assert r.status_code == 200, r.text
    code = client.get(r.json()["downloadUrl"]).content
    read = post(client, "barcode-read", {"file": ("code.png", code)})
    assert read.status_code == 200 and read.json()["barcodes"][0]["text"] == "LUTRA-42"
    assert_error(client.post("/api/v1/tools/image/barcode-generate", json={"text": "12AB", "type": "ean13"}), 400,
                 "VALIDATION_ERROR")


def test_qr_generate_json_multipart_and_logo(client):
    r = client.post("/api/v1/tools/image/qr-generate", json={"data": "hello api", "size": 300})
    assert r.status_code == 200, r.text
    qr = client.get(r.json()["downloadUrl"]).content
    assert post(client, "barcode-read", {"file": ("qr.png", qr)}).json()["text"] == "hello api"
    plain = client.post("/api/v1/tools/image/qr-generate",  # multipart with only the settings part
                        files=[("settings", (None, json.dumps({"data": "no logo"})))])
    assert plain.status_code == 200, plain.text
    logo = client.post("/api/v1/tools/image/qr-generate", files={"logo": ("logo.png", png_bytes(40, 40))},
                       data=settings_field({"data": "with logo", "size": 400}))
    assert logo.status_code == 200 and logo.json()["errorCorrectionLevel"] == "H"
    logo_qr = client.get(logo.json()["downloadUrl"]).content
    assert post(client, "barcode-read", {"file": ("qr.png", logo_qr)}).json()["text"] == "with logo"


def test_simple_utilities(client, samples):
    photo = {"file": ("photo.jpg", (samples / "photo.jpg").read_bytes())}
    pal = post(client, "color-palette", photo, {"count": 4})
    assert pal.status_code == 200 and len(pal.json()["colors"]) == 4
    hist = post(client, "histogram", photo)
    assert hist.status_code == 200 and set(hist.json()["stats"]) == {"red", "green", "blue", "luminance"}
    lqip = post(client, "lqip-placeholder", photo, {"width": 8})
    assert lqip.status_code == 200 and lqip.json()["dataUri"].startswith("data:image/webp;base64,")
    b64 = post(client, "image-to-base64", photo)
    assert b64.status_code == 200 and b64.json()["dataUri"].startswith("data:image/jpeg;base64,")
    assert_error(post(client, "lqip-placeholder", photo, {"width": 2}), 400, "VALIDATION_ERROR")


def test_layout_tools(client, samples):
    photo = (samples / "photo.png").read_bytes()
    parts = [("files", ("a.png", png_bytes(rgb=(255, 0, 0)))), ("files", ("b.png", png_bytes(rgb=(0, 255, 0)))),
             ("files", ("c.png", png_bytes(rgb=(0, 0, 255))))]
    col = client.post("/api/v1/tools/image/collage", files=parts,
                      data=settings_field({"template": "3-big-left", "width": 300, "height": 200}))
    assert col.status_code == 200, col.text
    assert (fetch_image(client, col.json()["downloadUrl"]).width, col.json()["height"]) == (300, 200)
    st = client.post("/api/v1/tools/image/stitch", files=parts, data=settings_field({"direction": "vertical"}))
    assert st.status_code == 200 and st.json()["height"] == 240
    assert_error(client.post("/api/v1/tools/image/stitch", files=parts[:1]), 400, "VALIDATION_ERROR")
    sp = post(client, "split", {"file": ("photo.png", photo)}, {"rows": 2, "cols": 3})
    assert sp.status_code == 200, sp.text
    assert sp.json()["downloadUrl"].endswith(".zip") and len(sp.json()["downloads"]) == 6
    with zipfile.ZipFile(io.BytesIO(client.get(sp.json()["downloadUrl"]).content)) as zf:
        assert len(zf.namelist()) == 6
    sheet = client.post("/api/v1/tools/image/sprite-sheet", files=parts, data=settings_field({"columns": 3}))
    assert sheet.status_code == 200 and set(sheet.json()["frames"]) == {"a", "b", "c"}
    for tool, settings in (("border", {"width": 5}), ("circle-crop", {"outputSize": 64}),
                           ("image-pad", {"target": "1:1"}), ("beautify", {"frame": "macos-dark", "padding": 10})):
        r = post(client, tool, {"file": ("photo.png", photo)}, settings)
        assert r.status_code == 200, (tool, r.text)
    bg = client.post("/api/v1/tools/image/beautify",
                     files=[("file", ("shot.png", photo)), ("background", ("bg.png", png_bytes(rgb=(1, 2, 3))))],
                     data=settings_field({"backgroundType": "image", "shadowPreset": "none"}))
    assert bg.status_code == 200, bg.text
    assert fetch_image(client, bg.json()["downloadUrl"]).getpoint(2, 2)[:3] == [1, 2, 3]
    pdf_in = client.post("/api/v1/tools/image/collage", files=[("files", ("x.pdf", pdf_bytes()))])
    assert_error(pdf_in, 415, "UNSUPPORTED_MEDIA_TYPE"), pdf_in.text


def test_svg_to_raster_single_and_batch(client):
    r = post(client, "svg-to-raster", {"file": ("a.svg", SVG)}, {"width": 80})
    assert r.status_code == 200, r.text
    assert r.json()["sanitizedElements"] >= 1 and fetch_image(client, r.json()["downloadUrl"]).width == 80
    batch = client.post("/api/v1/tools/image/svg-to-raster/batch",
                        files=[("files", ("a.svg", SVG)), ("files", ("b.svg", SVG))],
                        data=settings_field({"format": "png"}))
    assert batch.status_code == 200 and batch.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(batch.content)) as zf:
        assert sorted(zf.namelist()) == ["a.png", "b.png"]
    assert_error(post(client, "svg-to-raster", {"file": ("a.png", png_bytes())}), 415, "UNSUPPORTED_MEDIA_TYPE")


def test_vectorize_and_gif_tools(client):
    v = post(client, "vectorize", {"file": ("a.png", png_bytes())}, {"colorMode": "bw"})
    assert v.status_code == 200 and b"<svg" in client.get(v.json()["downloadUrl"]).content
    gif = gif_bytes()
    info = post(client, "gif-tools/info", {"file": ("a.gif", gif)})
    assert info.status_code == 200 and (info.json()["frames"], info.json()["durationMs"]) == (3, 300)
    resized = post(client, "gif-tools", {"file": ("a.gif", gif)}, {"action": "resize", "percentage": 50})
    assert resized.status_code == 200
    out = pyvips.Image.new_from_buffer(client.get(resized.json()["downloadUrl"]).content, "", n=-1)
    assert out.get("n-pages") == 3 and out.width == 30
    webp = post(client, "gif-webp", {"file": ("a.gif", gif)})
    assert webp.status_code == 200 and webp.json()["downloadUrl"].endswith(".webp")
    assert_error(post(client, "gif-tools", {"file": ("a.gif", gif)}, {"action": "spin"}), 400, "VALIDATION_ERROR")
    assert_error(post(client, "gif-tools/nope", {"file": ("a.gif", gif)}), 404)


def test_pdf_to_image_routes(client):
    pdf = pdf_bytes()
    r = post(client, "pdf-to-image", {"file": ("doc.pdf", pdf)}, {"dpi": 144}, section="pdf")
    assert r.status_code == 200, r.text
    assert r.json()["pageCount"] == 2 and [d["filename"] for d in r.json()["downloads"]] == ["doc_page_1.png",
                                                                                             "doc_page_2.png"]
    assert fetch_image(client, r.json()["downloads"][0]["downloadUrl"]).width == 400
    info = post(client, "pdf-to-image/info", {"file": ("doc.pdf", pdf)}, section="pdf")
    assert info.status_code == 200 and info.json()["pages"][0]["width"] == 200
    prev = post(client, "pdf-to-image/preview", {"file": ("doc.pdf", pdf)}, {"page": 2, "format": "png"}, section="pdf")
    assert prev.status_code == 200 and prev.headers["content-type"].startswith("image/png")
    assert pyvips.Image.new_from_buffer(prev.content, "").width == 100
    # listed under image (format & conversion) too: it answers there as well (COMPATIBILITY.md)
    assert post(client, "pdf-to-image", {"file": ("doc.pdf", pdf)}, section="image").json()["pageCount"] == 2
    assert_error(post(client, "pdf-to-image", {"file": ("doc.pdf", pdf)}, {"pages": "5"}, section="pdf"), 400)
    assert_error(post(client, "pdf-to-image", {"file": ("doc.pdf", b"%PDF-1.4 broken")}, section="pdf"), 400)


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        data = b"<html><body style='margin:0;background:#00ff00'>hi</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def local_site():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_html_to_image_refuses_loopback_by_default(client, local_site):
    r = client.post("/api/v1/tools/image/html-to-image", json={"url": local_site})
    assert_error(r, 400, "VALIDATION_ERROR")
    assert_error(client.post("/api/v1/tools/image/html-to-image", json={"url": "file:///etc/passwd"}), 400)
    assert_error(client.post("/api/v1/tools/image/html-to-image", json={"url": local_site, "viewportWidth": 10}), 400)


def test_html_to_image_captures_an_allowed_host(make_server, local_site):
    from actors.image.html_to_image import find_chromium

    if find_chromium() is None:
        pytest.skip("chromium is not installed: run ./run setup (deps/image2.apt)")
    srv = make_server(allowed_fetch_hosts="127.0.0.1")
    with srv.client() as c:
        r = c.post("/api/v1/tools/image/html-to-image", json={"url": local_site, "devicePreset": "custom",
                                                              "viewportWidth": 640, "viewportHeight": 480})
        assert r.status_code == 200, r.text
        assert r.json()["downloadUrl"].endswith("/screenshot.png")
        im = pyvips.Image.new_from_buffer(c.get(r.json()["downloadUrl"]).content, "")
        assert (im.width, im.height) == (640, 480) and im.getpoint(600, 400)[:3] == [0, 255, 0]
