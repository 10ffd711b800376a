"""Optimization tools on real generated images: sizes, formats, metadata written and read back, names."""

from __future__ import annotations

import json
import zipfile

import pytest
import pyvips
from PIL import Image

from protocols.errors import ToolError
from tests.helpers import run_tool


def dims(path):
    im = pyvips.Image.new_from_file(str(path))
    return im.width, im.height


@pytest.mark.parametrize("fmt, magic", [("webp", b"RIFF"), ("jpeg", b"\xff\xd8\xff"), ("png", b"\x89PNG"),
                                        ("avif", b"ftyp")])
def test_optimize_for_web_resizes_and_encodes(samples, tmp_path, fmt, magic):
    result = run_tool("optimize-for-web", samples / "large.jpg", {"format": fmt, "maxWidth": 800, "quality": 70},
                      tmp_path)
    out = result.outputs[0]
    assert magic in out.read_bytes()[:12]
    assert dims(out) == (800, 600)
    assert result.extra["width"] == 800 and result.extra["savedPercent"] > 0
    assert out.stat().st_size < (samples / "large.jpg").stat().st_size


def test_optimize_for_web_never_enlarges_and_honours_orientation(samples, tmp_path):
    out = run_tool("optimize-for-web", samples / "oriented.jpg", {"maxWidth": 5000, "maxHeight": 5000}, tmp_path)
    assert dims(out.outputs[0]) == (300, 400)
    both = run_tool("optimize-for-web", samples / "photo.jpg", {"maxWidth": 200, "maxHeight": 50}, tmp_path)
    assert dims(both.outputs[0]) == (67, 50)


def test_optimize_progressive_jpeg_and_strip(samples, tmp_path):
    src = run_tool("edit-metadata", samples / "photo.jpg", {"author": "Ann"}, tmp_path).outputs[0]
    out = run_tool("optimize-for-web", src, {"format": "jpeg", "progressive": True}, tmp_path).outputs[0]
    data = out.read_bytes()
    assert b"\xff\xc2" in data  # SOF2 = progressive DCT
    assert b"Ann" not in data
    kept = run_tool("optimize-for-web", src, {"format": "jpeg", "stripMetadata": False}, tmp_path).outputs[0]
    assert b"Ann" in kept.read_bytes()


def test_optimize_preview_is_the_same_pipeline(samples, tmp_path):
    result = run_tool("optimize-for-web/preview", samples / "photo.png", {"format": "webp", "maxWidth": 100}, tmp_path)
    assert dims(result.outputs[0]) == (100, 75) and result.extra["format"] == "webp"


def test_edit_metadata_written_then_inspected(samples, tmp_path):
    settings = {"title": "Sunset Ünïcode", "description": "A test picture", "author": "Ann Smith",
                "copyright": "(c) 2025 Ann", "keywords": "sun, sea, sky", "gps": {"lat": 48.8584, "lon": -2.2945},
                "dateTime": "2024-05-06T07:08:09"}
    for name in ("photo.jpg", "photo.png", "photo.webp"):
        edited = run_tool("edit-metadata", samples / name, settings, tmp_path)
        assert edited.extra["fieldsWritten"] > 10
        info = run_tool("edit-metadata/inspect", edited.outputs[0], {}, tmp_path).extra
        summary = info["summary"]
        assert summary["title"] == "Sunset Ünïcode", name
        assert summary["description"] == "A test picture"
        assert summary["author"] == "Ann Smith"
        assert summary["copyright"] == "(c) 2025 Ann"
        assert summary["keywords"] == ["sun", "sea", "sky"]
        assert summary["gps"]["lat"] == pytest.approx(48.8584, abs=1e-4)
        assert summary["gps"]["lon"] == pytest.approx(-2.2945, abs=1e-4)
        assert summary["dateTime"].startswith("2024:05:06 07:08:09")
        assert info["xmp"] and info["fieldCount"] > 5
        assert dims(edited.outputs[0]) == (400, 300)
    jpeg = run_tool("edit-metadata", samples / "photo.jpg", settings, tmp_path).outputs[0]
    iptc = run_tool("edit-metadata/inspect", jpeg, {}, tmp_path).extra["iptc"]
    assert iptc["Keywords"] == ["sun", "sea", "sky"] and iptc["By-line"] == "Ann Smith"


def test_inspect_never_reveals_server_paths(samples, tmp_path):
    info = run_tool("strip-metadata/inspect", samples / "oriented.jpg", {}, tmp_path)
    text = json.dumps(info.extra)
    assert str(samples) not in text and "Directory" not in text and "SourceFile" not in text
    assert info.extra["exif"]["Orientation"] == "Rotate 90 CW"
    assert json.loads(info.outputs[0].read_text())["fieldCount"] == info.extra["fieldCount"]


def test_strip_metadata_removes_fields_and_keeps_pixels(samples, tmp_path):
    edited = run_tool("edit-metadata", samples / "photo.jpg", {"title": "secret", "gps": {"lat": 1, "lon": 2}},
                      tmp_path).outputs[0]
    stripped = run_tool("strip-metadata", edited, {}, tmp_path)
    assert stripped.extra["fieldsRemoved"] > 5 and stripped.extra["fieldsKept"] == 0
    info = run_tool("strip-metadata/inspect", stripped.outputs[0], {}, tmp_path).extra
    assert info["summary"]["title"] is None and info["summary"]["gps"] is None and not info["hasMetadata"]
    a, b = pyvips.Image.new_from_file(str(edited)), pyvips.Image.new_from_file(str(stripped.outputs[0]))
    assert (a - b).abs().max() == 0  # lossless: the JPEG data is untouched
    # a rotated photo keeps only its orientation, so it still shows upright
    kept = run_tool("strip-metadata", samples / "oriented.jpg", {}, tmp_path)
    exif = run_tool("strip-metadata/inspect", kept.outputs[0], {}, tmp_path).extra["exif"]
    assert exif.get("Orientation") == "Rotate 90 CW"


def test_metadata_bad_inputs(samples, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("edit-metadata", samples / "corrupt.jpg", {"title": "x"}, tmp_path)
    assert err.value.status == 400
    with pytest.raises(ToolError):
        run_tool("strip-metadata", samples / "text.png", {}, tmp_path)
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        run_tool("edit-metadata", samples / "photo.jpg", {"gps": {"lat": 91, "lon": 0}}, tmp_path)


def test_bulk_rename_pattern(samples, tmp_path):
    files = [samples / "photo.jpg", samples / "photo.png", samples / "small.png"]
    result = run_tool("bulk-rename", files, {"pattern": "holiday-{n}-{original}", "startIndex": 7, "padding": 3},
                      tmp_path)
    names = [m["renamed"] for m in result.extra["files"]]
    assert names == ["holiday-007-photo.jpg", "holiday-008-photo.png", "holiday-009-small.png"]
    assert result.outputs[0].suffix == ".zip"
    with zipfile.ZipFile(result.outputs[0]) as zf:
        assert sorted(zf.namelist()) == sorted(names)
        assert zf.read("holiday-007-photo.jpg") == (samples / "photo.jpg").read_bytes()


def test_bulk_rename_date_collisions_and_safety(samples, tmp_path):
    dated = run_tool("edit-metadata", samples / "photo.jpg", {"dateTime": "2021-03-04T05:06:07"}, tmp_path).outputs[0]
    result = run_tool("bulk-rename", [dated, samples / "photo.jpg"], {"pattern": "../{date}"}, tmp_path,
                      names=["a.jpg", "b.JPG"])
    names = [m["renamed"] for m in result.extra["files"]]
    assert names[0] == "_2021-03-04.jpg"
    assert names[1].startswith("_") and names[1].endswith(".jpg") and "/" not in names[1]
    same = run_tool("bulk-rename", [samples / "photo.jpg", samples / "photo.png"], {"pattern": "x"}, tmp_path,
                    names=["a.jpg", "b.jpg"])
    assert [m["renamed"] for m in same.extra["files"]] == ["x.jpg", "x_2.jpg"]
    single = run_tool("bulk-rename", [samples / "photo.jpg"], {"pattern": "one-{n}"}, tmp_path)
    assert [p.name for p in single.outputs] == ["one-1.jpg"]
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        run_tool("bulk-rename", [samples / "photo.jpg"], {"pattern": "{nope}"}, tmp_path)


def pdf_pages(path):
    import pikepdf

    with pikepdf.open(path) as pdf:
        return [tuple(float(x) for x in page.mediabox) for page in pdf.pages]


def test_image_to_pdf_pages_and_sizes(samples, tmp_path):
    result = run_tool("image-to-pdf", [samples / "photo.jpg", samples / "alpha.png", samples / "oriented.jpg"],
                      {"pageSize": "A4", "margin": 36}, tmp_path)
    pages = pdf_pages(result.outputs[0])
    assert len(pages) == 3 and result.extra["pageCount"] == 3
    for box in pages:
        assert box[2] == pytest.approx(595.28, abs=0.5) and box[3] == pytest.approx(841.89, abs=0.5)
    landscape = pdf_pages(run_tool("image-to-pdf", samples / "photo.jpg", {"pageSize": "Letter",
                                                                         "orientation": "landscape"},
                                   tmp_path).outputs[0])
    assert landscape[0][2:] == (792.0, 612.0)
    fit = pdf_pages(run_tool("image-to-pdf", samples / "photo.png", {"pageSize": "fit"}, tmp_path).outputs[0])
    assert fit[0][2] / fit[0][3] == pytest.approx(400 / 300, rel=0.01)


def test_image_to_pdf_embeds_jpeg_losslessly(samples, tmp_path):
    out = run_tool("image-to-pdf", samples / "photo.jpg", {}, tmp_path).outputs[0]
    assert (samples / "photo.jpg").read_bytes() in out.read_bytes()


def test_image_to_pdf_target_size(samples, tmp_path):
    result = run_tool("image-to-pdf", samples / "large.jpg", {"targetSize": {"value": 60, "unit": "KB"}}, tmp_path)
    assert result.extra["targetMet"] is True
    assert result.outputs[0].stat().st_size <= 60 * 1024
    assert len(pdf_pages(result.outputs[0])) == 1


def test_favicon_sizes_ico_manifest(samples, tmp_path):
    result = run_tool("favicon", samples / "photo.jpg", {"padding": 10, "borderRadius": 50}, tmp_path)
    assert result.outputs[0].suffix == ".zip"
    with zipfile.ZipFile(result.outputs[0]) as zf:
        names = set(zf.namelist())
        assert {"favicon.ico", "apple-touch-icon.png", "site.webmanifest", "favicon-snippet.html"} <= names
        for name in ("favicon-16x16.png", "favicon-32x32.png", "favicon-48x48.png", "android-chrome-192x192.png",
                     "android-chrome-512x512.png"):
            size = int(name.rsplit("-", 1)[1].split("x")[0])
            with zf.open(name) as fh:
                assert Image.open(fh).size == (size, size)
        manifest = json.loads(zf.read("site.webmanifest"))
        assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
        assert 'href="/apple-touch-icon.png"' in zf.read("favicon-snippet.html").decode()
        with zf.open("apple-touch-icon.png") as fh:
            apple = Image.open(fh)
            assert apple.size == (180, 180) and apple.mode == "RGB"
        with zf.open("favicon.ico") as fh:
            assert Image.open(fh).ico.sizes() == {(16, 16), (32, 32), (48, 48)}
        with zf.open("android-chrome-512x512.png") as fh:
            big = Image.open(fh).convert("RGBA")
            assert big.getpixel((2, 2))[3] == 0  # rounded (circle) corner is transparent
            assert big.getpixel((256, 256))[3] == 255


def test_favicon_rejects_bad_input(samples, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("favicon", samples / "truncated.jpg", {}, tmp_path)
    assert 400 <= err.value.status < 500


def test_image_to_pdf_cmyk_and_16_bit(samples, tmp_path):
    cmyk = tmp_path / "cmyk.jpg"
    pyvips.Image.new_from_file(str(samples / "photo.jpg")).colourspace("cmyk").jpegsave(str(cmyk))
    deep = tmp_path / "deep.png"
    pyvips.Image.new_from_file(str(samples / "photo.png")).colourspace("rgb16").pngsave(str(deep))
    result = run_tool("image-to-pdf", [cmyk, deep], {"pageSize": "Legal"}, tmp_path)
    assert [box[2:] for box in pdf_pages(result.outputs[0])] == [(612.0, 1008.0)] * 2


def test_image_to_pdf_margin_leaves_a_white_frame(tmp_path):
    import pypdfium2 as pdfium

    red = tmp_path / "red.png"
    Image.new("RGB", (400, 300), (255, 0, 0)).save(red)
    pdf = run_tool("image-to-pdf", red, {"pageSize": "A4", "orientation": "landscape", "margin": 72},
                   tmp_path).outputs[0]
    doc = pdfium.PdfDocument(str(pdf))
    page = doc[0].render(scale=1).to_pil().convert("RGB")  # 1 px per point
    w, h = page.size
    assert abs(w - 842) <= 1 and abs(h - 595) <= 1
    assert page.getpixel((36, h // 2)) == (255, 255, 255) and page.getpixel((w // 2, 36)) == (255, 255, 255)
    centre = page.getpixel((w // 2, h // 2))
    assert centre[0] > 240 and centre[1] < 15  # the picture, centred
    # fitted inside the 72 pt margins: along its limiting side the picture spans the page minus two margins
    red_w = sum(1 for x in range(w) if page.getpixel((x, h // 2))[0] > 200 and page.getpixel((x, h // 2))[1] < 60)
    red_h = sum(1 for y in range(h) if page.getpixel((w // 2, y))[0] > 200 and page.getpixel((w // 2, y))[1] < 60)
    assert red_h == pytest.approx(595 - 144, abs=2) and red_w == pytest.approx(red_h * 4 / 3, abs=3)
    doc.close()
