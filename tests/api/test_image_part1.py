"""Image tools part 1 over HTTP against a real server: optimization, adjustments, watermark & overlay,
meme generator and the Meme Templates API."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest
from PIL import Image

from tests.helpers import settings_field


def png(color=(30, 120, 200), size=(120, 80), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, "PNG")
    return buf.getvalue()


def jpeg(color=(200, 80, 40), size=(320, 240)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def post(client, tool, files, settings=None):
    return client.post(f"/api/v1/tools/image/{tool}", files=files, data=settings_field(settings or {}))


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def download(client, body) -> bytes:
    r = client.get(body["downloadUrl"])
    assert r.status_code == 200, r.text
    return r.content


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"error", "code"}
    if code:
        assert body["code"] == code
    assert "/tmp" not in body["error"] and "Traceback" not in body["error"]


def test_optimize_for_web_and_preview(client):
    body = ok(post(client, "optimize-for-web", {"file": ("big.jpg", jpeg(size=(1600, 1200)))},
                   {"format": "webp", "maxWidth": 400}))
    assert body["downloadUrl"].endswith(".webp") and body["width"] == 400
    assert body["processedSize"] < body["originalSize"]
    data = download(client, body)
    assert Image.open(io.BytesIO(data)).size == (400, 300)
    preview = post(client, "optimize-for-web/preview", {"file": ("big.jpg", jpeg(size=(1600, 1200)))},
                   {"format": "jpeg", "maxWidth": 200, "quality": 60})
    assert preview.status_code == 200, preview.text
    assert preview.headers["content-type"].startswith("image/jpeg")
    assert int(preview.headers["X-Processed-Size"]) == len(preview.content)
    assert int(preview.headers["X-Original-Size"]) > len(preview.content)
    assert preview.headers["X-Width"] == "200"
    assert Image.open(io.BytesIO(preview.content)).size == (200, 150)


def test_optimize_bad_settings_and_kind(client):
    assert_error(post(client, "optimize-for-web", {"file": ("a.jpg", jpeg())}, {"format": "bmp"}), 400,
                 "VALIDATION_ERROR")
    assert_error(post(client, "optimize-for-web", {"file": ("a.txt", b"hello, not an image\n")}), 415)


def test_edit_metadata_then_inspect_over_http(client):
    settings = {"title": "Harbour", "author": "Ann", "copyright": "(c) Ann", "keywords": ["boat", "sea"],
                "gps": {"lat": -33.8568, "lon": 151.2153}, "dateTime": "2023-01-02T03:04:05"}
    body = ok(post(client, "edit-metadata", {"file": ("p.jpg", jpeg())}, settings))
    assert body["metadata"]["title"] == "Harbour"
    edited = download(client, body)
    info = ok(post(client, "edit-metadata/inspect", {"file": ("p.jpg", edited)}))
    summary = info["summary"]
    assert summary["title"] == "Harbour" and summary["author"] == "Ann" and summary["keywords"] == ["boat", "sea"]
    assert summary["gps"]["lat"] == pytest.approx(-33.8568, abs=1e-4)
    assert summary["dateTime"].startswith("2023:01:02 03:04:05")
    assert "Directory" not in json.dumps(info)
    stripped = download(client, ok(post(client, "strip-metadata", {"file": ("p.jpg", edited)})))
    after = ok(post(client, "strip-metadata/inspect", {"file": ("p.jpg", stripped)}))
    assert after["hasMetadata"] is False and after["summary"]["title"] is None


def test_metadata_corrupt_input(client):
    data = jpeg()
    assert_error(post(client, "edit-metadata", {"file": ("c.jpg", data[:100] + b"\x00" * 40 + data[-50:])},
                      {"title": "x"}), 400)
    assert_error(post(client, "edit-metadata", {"file": ("c.jpg", jpeg())}, {"gps": {"lat": 100, "lon": 0}}), 400,
                 "VALIDATION_ERROR")


def test_bulk_rename_multi_file(client):
    files = [("files", ("a.png", png())), ("files", ("b.jpg", jpeg())), ("files", ("c.png", png((1, 2, 3))))]
    body = ok(client.post("/api/v1/tools/image/bulk-rename", files=files,
                          data=settings_field({"pattern": "img-{n}", "padding": 2})))
    assert [f["renamed"] for f in body["files"]] == ["img-01.png", "img-02.jpg", "img-03.png"]
    with zipfile.ZipFile(io.BytesIO(download(client, body))) as zf:
        assert sorted(zf.namelist()) == ["img-01.png", "img-02.jpg", "img-03.png"]
    assert_error(client.post("/api/v1/tools/image/bulk-rename", data=settings_field({"pattern": "{bad}"}),
                             files=[("files", ("a.png", png()))]), 400, "VALIDATION_ERROR")


def test_image_to_pdf_and_favicon(client):
    files = [("files", ("a.png", png())), ("files", ("b.jpg", jpeg()))]
    body = ok(client.post("/api/v1/tools/image/image-to-pdf", files=files,
                          data=settings_field({"pageSize": "A5", "margin": 10})))
    pdf = download(client, body)
    assert pdf.startswith(b"%PDF") and body["pageCount"] == 2
    fav = ok(post(client, "favicon", {"file": ("logo.png", png(size=(300, 200)))}, {"backgroundColor": "#ffffff"}))
    assert fav["downloadUrl"].endswith(".zip")
    names = {d["filename"] for d in fav["downloads"]}
    assert {"favicon.ico", "apple-touch-icon.png", "site.webmanifest", "favicon-snippet.html"} <= names
    with zipfile.ZipFile(io.BytesIO(download(client, fav))) as zf:
        assert Image.open(io.BytesIO(zf.read("android-chrome-192x192.png"))).size == (192, 192)


@pytest.mark.parametrize("tool, settings", [
    ("adjust-colors", {"brightness": 20, "effect": "sepia"}),
    ("sharpening", {"method": "unsharp-mask", "denoise": "light"}),
    ("replace-color", {"sourceColor": "#1e78c8", "targetColor": "#ff0000", "tolerance": 5}),
    ("color-blindness", {"simulationType": "tritanopia"}),
    ("duotone", {"shadow": "#000000", "highlight": "#ff0000"}),
    ("pixelate", {"blockSize": 8}),
    ("vignette", {"strength": 0.8}),
])
def test_adjustments_over_http(client, tool, settings):
    body = ok(post(client, tool, {"file": ("in.png", png())}, settings))
    out = Image.open(io.BytesIO(download(client, body)))
    assert out.size == (120, 80)
    if tool == "replace-color":
        assert out.convert("RGB").getpixel((5, 5)) == (255, 0, 0)
    if tool == "duotone":
        r, g, b = out.convert("RGB").getpixel((5, 5))
        assert g == 0 and b == 0 and r > 0


@pytest.mark.parametrize("tool, settings", [
    ("adjust-colors", {"hue": 400}),
    ("sharpening", {"method": "blur"}),
    ("replace-color", {"sourceColor": "red"}),
    ("duotone", {"intensity": 101}),
    ("pixelate", {"blockSize": 500}),
    ("vignette", {"strength": 2}),
])
def test_adjustments_reject_out_of_range(client, tool, settings):
    assert_error(post(client, tool, {"file": ("in.png", png())}, settings), 400, "VALIDATION_ERROR")


def test_watermarks_text_overlay_compose(client):
    body = ok(post(client, "watermark-text", {"file": ("in.jpg", jpeg())},
                   {"text": "© 2025", "position": "center", "opacity": 100, "color": "#00ff00"}))
    marked = Image.open(io.BytesIO(download(client, body))).convert("RGB")
    assert any(marked.getpixel((x, 120))[1] > 200 for x in range(100, 220))
    body = ok(post(client, "watermark-image", {"file": ("in.jpg", jpeg()), "watermark": ("w.png", png((255, 255, 255)))},
                   {"position": "top-left", "opacity": 100, "scale": 50}))
    box = body["watermarkBox"]
    out = Image.open(io.BytesIO(download(client, body))).convert("RGB")
    assert min(out.getpixel((box["left"] + 10, box["top"] + 10))) > 240
    assert_error(post(client, "watermark-image", {"file": ("in.jpg", jpeg())}), 400, "VALIDATION_ERROR")
    body = ok(post(client, "compose", {"file": ("base.png", png((0, 0, 0), (100, 100))),
                                       "overlay": ("top.png", png((255, 255, 255), (10, 10)))},
                   {"x": 50, "y": 50, "blend": "screen"}))
    out = Image.open(io.BytesIO(download(client, body))).convert("RGB")
    assert out.getpixel((55, 55)) == (255, 255, 255) and out.getpixel((5, 5)) == (0, 0, 0)
    body = ok(post(client, "text-overlay", {"file": ("in.png", png())},
                   {"text": "Hello", "background": "#000000", "x": 2, "y": 2, "padding": 4, "fontSize": 16}))
    assert body["box"]["left"] == 2
    assert_error(post(client, "text-overlay", {"file": ("in.png", png())}, {"text": "x", "font": "papyrus-9000"}),
                 400)


def test_meme_generator_both_modes(client):
    r = client.post("/api/v1/tools/image/meme-generator",
                    json={"templateId": "classic", "textBoxes": [{"id": "top", "text": "top"},
                                                                 {"id": "bottom", "text": "bottom"}]})
    body = ok(r)
    meme = Image.open(io.BytesIO(download(client, body)))
    assert meme.size == (800, 600) and meme.format == "JPEG"
    body = ok(post(client, "meme-generator", {"file": ("cat.png", png(size=(300, 200)))},
                   {"textLayout": "bottom-only", "textBoxes": [{"text": "such meme"}]}))
    assert [b["id"] for b in body["textBoxes"]] == ["bottom"]
    assert_error(client.post("/api/v1/tools/image/meme-generator", json={"templateId": "missing"}), 400)
    assert_error(client.post("/api/v1/tools/image/meme-generator", json={"templateId": "classic",
                                                                         "fontFamily": "papyrus"}), 400,
                 "VALIDATION_ERROR")


def test_meme_templates_api(client, server):
    listing = client.get("/api/v1/meme-templates")
    assert listing.status_code == 200, listing.text
    body = listing.json()
    ids = {t["id"] for t in body["templates"]}
    assert {"classic", "two-buttons", "expanding-brain"} <= ids
    two = next(t for t in body["templates"] if t["id"] == "two-buttons")
    assert {b["id"] for b in two["textBoxes"]} == {"left", "right", "bottom"}
    full = client.get(two["url"])
    assert full.status_code == 200 and full.headers["content-type"].startswith("image/jpeg")
    assert Image.open(io.BytesIO(full.content)).size == (two["width"], two["height"])
    thumb = client.get(two["thumbnailUrl"])
    assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).width <= 240
    fonts = {f["family"]: f for f in body["fonts"]}
    assert set(fonts) == {"anton", "arial-black", "comic-sans", "montserrat", "bebas-neue", "permanent-marker",
                          "roboto"}
    font = client.get(fonts["anton"]["url"])
    assert font.status_code == 200 and font.content[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")
    for bad in ("/api/v1/meme-templates/full/..%2F..%2F..%2Fetc%2Fpasswd",
                "/api/v1/meme-templates/full/../../templates.json",
                "/api/v1/meme-templates/thumbs/nope.jpg",
                "/api/v1/meme-templates/fonts/..%2Fpasswd",
                "/api/v1/meme-templates/fonts/DejaVuSans.ttf"):
        r = client.get(bad)
        assert r.status_code == 404, (bad, r.status_code)
    anonymous = httpx.get(server.base_url + "/api/v1/meme-templates")
    assert_error(anonymous, 401, "AUTH_REQUIRED")
    assert httpx.get(server.base_url + two["url"]).status_code == 401
