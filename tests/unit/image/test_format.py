"""Format & conversion (part 2): svg-to-raster (+ sanitiser), vectorize, gif-tools (+ info), gif-webp,
pdf-to-image (+ info, preview)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import pyvips
from PIL import Image
from pydantic import ValidationError

from actors.common.svgsafe import sanitize
from protocols.errors import ToolError
from tests.helpers import run_tool

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="100" height="50" viewBox="0 0 100 50">'
       b'<rect width="50" height="50" fill="#ff0000"/><rect x="50" width="50" height="50" fill="#0000ff"/></svg>')
EVIL = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10" '
        b'onload="alert(1)"><script>alert(2)</script><foreignObject><p>x</p></foreignObject>'
        b'<image xlink:href="http://169.254.169.254/latest/meta-data" width="10" height="10"/>'
        b'<image href="file:///etc/passwd" width="10" height="10"/>'
        b'<style>@import url(http://evil.test/a.css); rect { fill: url(http://evil.test/x#g) }</style>'
        b'<rect width="10" height="10" style="fill:url(https://evil.test/p)" fill="url(#ok)"/>'
        b'<use href="#ok"/></svg>')


def load(path):
    return pyvips.Image.new_from_file(str(path))


def make_gif(path, frames=4, size=(60, 40), delay=100):
    """An animated GIF whose frames are solid red, green, blue, white... (one colour per frame)."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (255, 255, 0), (0, 255, 255)]
    images = [Image.new("RGB", size, colours[i % len(colours)]) for i in range(frames)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=delay, loop=0)
    return path


def frame_count(path):
    im = pyvips.Image.new_from_file(str(path), n=-1)
    return im.height // im.get("page-height"), im


def make_pdf(path, sizes=((200, 100), (100, 300), (150, 150))):
    pages = [Image.new("RGB", size, (i * 60, 100, 200)) for i, size in enumerate(sizes)]
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=72)
    return path


def test_sanitizer_removes_scripts_and_external_refs():
    clean, removed = sanitize(EVIL)
    text = clean.decode()
    for bad in ("script", "alert", "foreignObject", "169.254", "file:", "evil.test", "onload", "@import"):
        assert bad not in text, bad
    assert 'href="#ok"' in text and "url(#ok)" in text and removed >= 7
    with pytest.raises(ToolError):
        sanitize(b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>')
    with pytest.raises(ToolError):
        sanitize(b"<html><body/></html>")


def test_svg_to_raster_sizes_and_colours(tmp_path):
    (tmp_path / "a.svg").write_bytes(SVG)
    r = run_tool("svg-to-raster", tmp_path / "a.svg", {"width": 400}, tmp_path)
    im = load(r.outputs[0])
    assert (im.width, im.height) == (400, 200) and r.outputs[0].suffix == ".png"
    assert im.getpoint(100, 100)[:3] == [255, 0, 0] and im.getpoint(300, 100)[:3] == [0, 0, 255]
    jpg = run_tool("svg-to-raster", tmp_path / "a.svg", {"format": "jpg", "scale": 2}, tmp_path)
    assert jpg.outputs[0].suffix == ".jpg" and load(jpg.outputs[0]).width == 200
    webp = run_tool("svg-to-raster", tmp_path / "a.svg", {"format": "webp", "height": 25, "background": "#00ff00"},
                    tmp_path)
    assert load(webp.outputs[0]).width == 50
    (tmp_path / "evil.svg").write_bytes(EVIL)
    evil = run_tool("svg-to-raster", tmp_path / "evil.svg", {}, tmp_path)
    assert evil.extra["sanitizedElements"] >= 7 and load(evil.outputs[0]).width == 10


def test_svg_to_raster_bad_input(tmp_path):
    (tmp_path / "bad.svg").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'><rect")
    with pytest.raises(ToolError) as err:
        run_tool("svg-to-raster", tmp_path / "bad.svg", {}, tmp_path)
    assert err.value.status == 400
    with pytest.raises(ValidationError):
        run_tool("svg-to-raster", tmp_path / "bad.svg", {"format": "bmp"}, tmp_path)


@pytest.mark.parametrize("mode", ["color", "bw"])
def test_vectorize_rasterizes_back_close_to_input(tmp_path, mode):
    from PIL import ImageDraw

    pil = Image.new("RGB", (160, 120), (255, 255, 255))
    draw = ImageDraw.Draw(pil)
    draw.ellipse([20, 20, 90, 100], fill=(200, 30, 30) if mode == "color" else (0, 0, 0))
    draw.rectangle([100, 30, 150, 90], fill=(30, 60, 200) if mode == "color" else (0, 0, 0))
    pil.save(tmp_path / "shapes.png")
    r = run_tool("vectorize", tmp_path / "shapes.png", {"colorMode": mode}, tmp_path)
    svg = r.outputs[0].read_bytes()
    assert r.outputs[0].suffix == ".svg" and b"<svg" in svg and r.extra["paths"] >= 2
    back = pyvips.Image.svgload_buffer(svg).flatten(background=[255, 255, 255])[:3]
    assert (back.width, back.height) == (160, 120)
    a = np.asarray(pil, dtype=np.float64)
    b = np.ndarray(buffer=back.cast("uchar").write_to_memory(), dtype=np.uint8, shape=[120, 160, 3]).astype(float)
    assert np.abs(a - b).mean() < 6  # mean absolute error per channel (0-255)
    assert np.abs(a[60, 55] - b[60, 55]).max() < 30 and np.abs(a[60, 125] - b[60, 125]).max() < 30


def test_gif_info_and_resize_keeps_animation(tmp_path):
    gif = make_gif(tmp_path / "anim.gif", frames=4, delay=120)
    info = run_tool("gif-tools/info", gif, {}, tmp_path).extra
    assert (info["frames"], info["width"], info["height"], info["durationMs"]) == (4, 60, 40, 480)
    assert info["animated"] and info["loop"] == 0
    r = run_tool("gif-tools", gif, {"action": "resize", "width": 30}, tmp_path)
    count, im = frame_count(r.outputs[0])
    assert count == 4 and (im.width, im.get("page-height")) == (30, 20)
    assert list(im.get("delay")) == [120] * 4
    third = im.crop(0, 2 * 20, 30, 20)
    assert third.getpoint(15, 10)[:3] == [0, 0, 255]


def test_gif_reverse_speed_rotate_text_optimize(tmp_path):
    gif = make_gif(tmp_path / "anim.gif", frames=3, delay=200)
    rev = frame_count(run_tool("gif-tools", gif, {"action": "reverse"}, tmp_path).outputs[0])[1]
    assert rev.getpoint(5, 5)[:3] == [0, 0, 255]  # the last frame (blue) comes first
    fast = frame_count(run_tool("gif-tools", gif, {"action": "speed", "factor": 2}, tmp_path).outputs[0])[1]
    assert list(fast.get("delay")) == [100] * 3
    rot_count, rot = frame_count(run_tool("gif-tools", gif, {"action": "rotate", "angle": 90}, tmp_path).outputs[0])
    assert rot_count == 3 and (rot.width, rot.get("page-height")) == (40, 60)
    big = make_gif(tmp_path / "big.gif", frames=2, size=(200, 100))
    txt_count, txt = frame_count(run_tool("gif-tools", big, {"action": "add-text", "text": "HI", "fontSize": 40,
                                                             "color": "#000000", "position": "center"},
                                          tmp_path).outputs[0])
    centre = txt.crop(90, 40, 20, 20)
    assert txt_count == 2 and centre.min() < 60  # dark text drawn on the red frame
    opt = run_tool("gif-tools", gif, {"action": "optimize", "colors": 16}, tmp_path)
    assert frame_count(opt.outputs[0])[0] == 3


def test_gif_extract_frames(tmp_path):
    gif = make_gif(tmp_path / "anim.gif", frames=5)
    r = run_tool("gif-tools", gif, {"action": "extract-frames", "frames": "2-3,5"}, tmp_path)
    with zipfile.ZipFile(r.outputs[0]) as zf:
        assert sorted(zf.namelist()) == ["anim_frame_2.png", "anim_frame_3.png", "anim_frame_5.png"]
    assert load(r.outputs[1]).getpoint(1, 1)[:3] == [0, 255, 0]
    with pytest.raises(ToolError):
        run_tool("gif-tools", gif, {"action": "extract-frames", "frames": "9-12"}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("gif-tools", gif, {"action": "resize"}, tmp_path)


def test_gif_tools_rejects_non_animation(samples, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("gif-tools", samples / "photo.jpg", {"action": "reverse"}, tmp_path)
    assert err.value.status == 400


def test_gif_webp_both_ways(tmp_path):
    gif = make_gif(tmp_path / "anim.gif", frames=4, size=(80, 60), delay=150)
    webp = run_tool("gif-webp", gif, {"quality": 70, "resizePercent": 50}, tmp_path)
    assert webp.outputs[0].suffix == ".webp" and webp.outputs[0].read_bytes()[8:12] == b"WEBP"
    count, im = frame_count(webp.outputs[0])
    assert count == 4 and (im.width, im.get("page-height")) == (40, 30)
    assert list(im.get("delay")) == [150] * 4
    back = run_tool("gif-webp", webp.outputs[0], {}, tmp_path)
    assert back.outputs[0].suffix == ".gif"
    count, im = frame_count(back.outputs[0])
    assert count == 4 and im.crop(0, 30, 40, 30).getpoint(20, 15)[1] > 200  # frame 2 is green
    lossless = run_tool("gif-webp", gif, {"lossless": True}, tmp_path)
    assert frame_count(lossless.outputs[0])[1].getpoint(5, 5)[:3] == [255, 0, 0]


def test_pdf_to_image_pages_and_dpi(tmp_path):
    pdf = make_pdf(tmp_path / "doc.pdf")
    r = run_tool("pdf-to-image", pdf, {"dpi": 144}, tmp_path)
    assert r.extra["pageCount"] == 3 and len(r.outputs) == 4  # ZIP + 3 pages
    sizes = [(load(p).width, load(p).height) for p in r.outputs[1:]]
    assert sizes == [(400, 200), (200, 600), (300, 300)]
    with zipfile.ZipFile(r.outputs[0]) as zf:
        assert sorted(zf.namelist()) == ["doc_page_1.png", "doc_page_2.png", "doc_page_3.png"]
    assert np.abs(np.array(load(r.outputs[2]).getpoint(100, 300)[:3]) - [60, 100, 200]).max() <= 3
    one = run_tool("pdf-to-image", pdf, {"pages": "2", "format": "jpg", "dpi": 72}, tmp_path)
    assert len(one.outputs) == 1 and one.outputs[0].suffix == ".jpg"
    assert (load(one.outputs[0]).width, load(one.outputs[0]).height) == (100, 300)
    some = run_tool("pdf-to-image", pdf, {"pages": "1,3", "format": "webp"}, tmp_path)
    assert [p["page"] for p in some.extra["pages"]] == [1, 3]


def test_pdf_to_image_info_preview_and_errors(tmp_path, samples):
    pdf = make_pdf(tmp_path / "doc.pdf")
    info = run_tool("pdf-to-image/info", pdf, {}, tmp_path)
    assert info.extra["pageCount"] == 3
    assert info.extra["pages"][1] == {"page": 2, "width": 100, "height": 300, "widthIn": 1.389, "heightIn": 4.167}
    assert json.loads(info.outputs[0].read_text())["pageCount"] == 3
    prev = run_tool("pdf-to-image/preview", pdf, {"page": 3, "dpi": 36, "format": "png"}, tmp_path)
    assert (load(prev.outputs[0]).width, load(prev.outputs[0]).height) == (75, 75)
    with pytest.raises(ToolError):
        run_tool("pdf-to-image/preview", pdf, {"page": 4}, tmp_path)
    with pytest.raises(ToolError) as err:
        run_tool("pdf-to-image", pdf, {"pages": "2-7"}, tmp_path)
    assert err.value.status == 400
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage")
    with pytest.raises(ToolError) as err:
        run_tool("pdf-to-image", tmp_path / "broken.pdf", {}, tmp_path)
    assert err.value.status == 400
    with pytest.raises(ValidationError):
        run_tool("pdf-to-image", pdf, {"dpi": 5000}, tmp_path)


@pytest.mark.parametrize("fmt, magic", [("avif", b"ftypavif"), ("tiff", b"II*\x00"), ("gif", b"GIF8"),
                                        ("heif", b"ftyphei")])
def test_svg_to_raster_other_formats_and_dpi(tmp_path, fmt, magic):
    (tmp_path / "a.svg").write_bytes(SVG)
    r = run_tool("svg-to-raster", tmp_path / "a.svg", {"format": fmt, "background": "#ffffff"}, tmp_path)
    data = r.outputs[0].read_bytes()
    assert magic in data[:16] or data.startswith(magic)
    info = run_tool("info", r.outputs[0], {}, tmp_path).extra  # decoded back (HEVC through pillow-heif)
    assert (info["width"], info["height"]) == (100, 50)
    hi = run_tool("svg-to-raster", tmp_path / "a.svg", {"format": fmt, "dpi": 144}, tmp_path).extra
    assert (hi["width"], hi["height"]) == (200, 100)  # 144 dpi = 2 px per SVG px


def test_gif_optimize_shrinks_and_keeps_frames(tmp_path):
    rng = np.random.default_rng(0)
    frames = [Image.fromarray((rng.random((60, 80, 3)) * 255).astype("uint8")) for _ in range(3)]
    frames[0].save(tmp_path / "noisy.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    r = run_tool("gif-tools", tmp_path / "noisy.gif", {"action": "optimize", "colors": 16, "lossy": 50}, tmp_path)
    count, im = frame_count(r.outputs[0])
    assert count == 3 and (im.width, im.get("page-height")) == (80, 60)
    assert r.outputs[0].stat().st_size < (tmp_path / "noisy.gif").stat().st_size * 0.7
    colours = {tuple(p) for p in im.numpy().reshape(-1, im.bands)[:, :3].tolist()}
    assert len(colours) <= 16 * 3  # at most 16 colours per frame


POTRACE = (b'<?xml version="1.0" standalone="no"?>\n'
           b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 20010904//EN"\n'
           b' "http://www.w3.org/TR/2001/REC-SVG-20010904/DTD/svg10.dtd">\n'
           b'<svg version="1.0" xmlns="http://www.w3.org/2000/svg" width="120pt" height="60pt" viewBox="0 0 120 60">\n'
           b'<g fill="#000000" stroke="none"><path d="M0 0 L60 0 L60 60 L0 60 Z"/></g>\n</svg>\n')
INKSCAPE = (b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40">'
            b'<rect width="40" height="40" fill="#00ff00"/></svg>')


@pytest.mark.parametrize("svg", [POTRACE, INKSCAPE], ids=["potrace", "inkscape"])
def test_svg_with_a_standard_doctype_renders(tmp_path, svg):
    (tmp_path / "d.svg").write_bytes(svg)
    clean, _ = sanitize(svg)
    assert b"DOCTYPE" not in clean and b"dtd" not in clean
    result = run_tool("svg-to-raster", tmp_path / "d.svg", {}, tmp_path)
    image = pyvips.Image.new_from_file(str(result.outputs[0]))
    assert (image.width, image.height) == ((120, 60) if svg is POTRACE else (80, 40))  # 120pt at 72 dpi
    assert image.getpoint(10, 10)[:3] == ([0, 0, 0] if svg is POTRACE else [0, 255, 0])


@pytest.mark.parametrize("doc", [
    b'<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">'
    b'<text>&b;</text></svg>',
    b'<!DOCTYPE svg [<!ENTITY x SYSTEM "http://169.254.169.254/">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
    b'<!DOCTYPE svg [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><svg xmlns="http://www.w3.org/2000/svg"/>',
], ids=["entity-expansion", "external-entity", "parameter-entity"])
def test_svg_entities_are_refused(doc):
    with pytest.raises(ToolError) as err:
        sanitize(doc)
    assert err.value.status == 400
