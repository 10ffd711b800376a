"""Tool-level compatibility over HTTP: inputs people have (SVG with a DOCTYPE, BMP, PSD...) reach the image
tools, and the peer's current setting names and result fields work unchanged."""

from __future__ import annotations

import io

import pyvips
import zxingcpp
from PIL import Image

from tests.helpers import settings_field

SVG = (b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
       b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
       b'<svg xmlns="http://www.w3.org/2000/svg" width="240" height="120">'
       b'<rect width="120" height="120" fill="#ff0000"/><rect x="120" width="120" height="120" fill="#0000ff"/>'
       b'<script>alert(1)</script></svg>')


def image_bytes(fmt: str, size=(120, 80), colour=(10, 200, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, fmt)
    return buf.getvalue()


def post(client, tool, files, settings=None):
    return client.post(f"/api/v1/tools/image/{tool}", files=files, data=settings_field(settings or {}))


def fetch(client, body):
    r = client.get(body["downloadUrl"])
    assert r.status_code == 200
    return r.content


def test_svg_goes_to_image_tools(client):
    r = post(client, "resize", {"file": ("logo.svg", SVG)}, {"width": 120})
    assert r.status_code == 200, r.text
    image = pyvips.Image.new_from_buffer(fetch(client, r.json()), "")
    assert (image.width, image.height) == (120, 60) and r.json()["downloadUrl"].endswith(".png")
    assert image.getpoint(10, 30)[:3] == [255, 0, 0] and image.getpoint(110, 30)[:3] == [0, 0, 255]
    info = post(client, "info", {"file": ("logo.svg", SVG)})
    assert info.status_code == 200, info.text
    assert (info.json()["width"], info.json()["height"], info.json()["format"]) == (240, 120, "svg")
    rotated = post(client, "rotate", {"file": ("logo.svg", SVG)}, {"angle": 90})
    assert rotated.status_code == 200
    assert pyvips.Image.new_from_buffer(fetch(client, rotated.json()), "").width == 120


def test_bmp_and_ico_go_to_image_tools(client):
    for name, data in (("scan.bmp", image_bytes("BMP")), ("favicon.ico", image_bytes("ICO", (48, 48)))):
        r = post(client, "convert", {"file": (name, data)}, {"format": "png"})
        assert r.status_code == 200, (name, r.text)
        image = pyvips.Image.new_from_buffer(fetch(client, r.json()), "")
        assert image.getpoint(5, 5)[:3] == [10, 200, 30]


def test_info_peer_fields_and_no_dpi(client):
    data = image_bytes("PNG")
    body = post(client, "info", {"file": ("My image.png", data)}).json()
    assert body["filename"] == "My image.png" and body["fileSize"] == len(data)
    assert body["colorSpace"] == "srgb" and body["hasExif"] is False and body["dpi"] is None


def test_qr_generate_json_body_with_peer_names(client):
    r = client.post("/api/v1/tools/image/qr-generate",
                    json={"text": "from a peer client", "foreground": "#202060", "errorCorrection": "Q", "size": 300})
    assert r.status_code == 200, r.text
    image = Image.open(io.BytesIO(fetch(client, r.json())))
    assert [c.text for c in zxingcpp.read_barcodes(image)] == ["from a peer client"]


def test_image_to_base64_several_files(client):
    files = [("files", ("a.png", image_bytes("PNG"))), ("files", ("b.jpg", image_bytes("JPEG", (30, 20))))]
    r = post(client, "image-to-base64", files)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [(x["filename"], x["mimeType"], x["width"]) for x in results] == \
        [("a.png", "image/png", 120), ("b.jpg", "image/jpeg", 30)]
    assert results[0]["dataUri"].startswith("data:image/png;base64,")


def test_find_duplicates_peer_fields(client):
    red, red2, blue = image_bytes("PNG", colour=(220, 20, 20)), image_bytes("JPEG", colour=(220, 20, 20)), \
        image_bytes("PNG", colour=(20, 20, 220))
    r = post(client, "find-duplicates", [("files", ("red.png", red)), ("files", ("red.jpg", red2)),
                                         ("files", ("blue.png", blue))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["totalImages"] == 3 and body["uniqueImages"] == 1
    assert [sorted(f["filename"] for f in g["files"]) for g in body["duplicateGroups"]] == [["red.jpg", "red.png"]]
