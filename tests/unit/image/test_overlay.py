"""Watermark & overlay tools and the meme generator, checked pixel by pixel on generated images."""

from __future__ import annotations

import pytest
import pyvips
from pydantic import ValidationError

from actors.image import _fonts, meme_templates
from protocols.errors import ToolError
from tests.helpers import run_tool


def load(path):
    return pyvips.Image.new_from_file(str(path))


def flat(tmp_path, color=(30, 60, 90), size=(400, 300), name="flat.png", alpha=None):
    im = pyvips.Image.black(*size, bands=3).new_from_image(list(color)).cast("uchar").copy(interpretation="srgb")
    if alpha is not None:
        im = im.bandjoin(alpha)
    path = tmp_path / name
    im.pngsave(str(path))
    return path


def changed(a, b, box):
    """Fraction of pixels inside box (left, top, width, height) that differ between a and b."""
    left, top, w, h = box
    x = a.crop(left, top, w, h)[0:3].numpy().astype(int)
    y = b.crop(left, top, w, h)[0:3].numpy().astype(int)
    return float((abs(x - y).max(axis=2) > 30).mean())


def test_watermark_text_position_colour_and_opacity(tmp_path):
    src = flat(tmp_path)
    out = run_tool("watermark-text", src, {"text": "LUTRA", "color": "#ff0000", "opacity": 100, "fontSize": 40,
                                            "position": "bottom-right"}, tmp_path).outputs[0]
    a, b = load(src), load(out)
    assert (b.width, b.height) == (400, 300)
    assert changed(a, b, (250, 240, 150, 60)) > 0.05  # text drawn in the bottom-right corner
    assert changed(a, b, (0, 0, 200, 150)) == 0  # the top-left stays untouched
    # the drawn pixels are red
    x, y = a.numpy().astype(int), b.numpy().astype(int)
    drawn = abs(x - y).max(axis=2) > 100
    assert y[drawn][:, 0].mean() > 200 and y[drawn][:, 1].mean() < 80
    faint = load(run_tool("watermark-text", src, {"text": "LUTRA", "color": "#ff0000", "opacity": 20,
                                                   "fontSize": 40}, tmp_path).outputs[0])
    assert faint[0].max() < 120  # 20 % red over a red=30 background


def test_watermark_text_tile_and_rotation_cover_the_image(tmp_path):
    src = flat(tmp_path)
    out = load(run_tool("watermark-text", src, {"text": "DRAFT", "tile": True, "rotation": 30, "opacity": 100,
                                                 "fontSize": 24}, tmp_path).outputs[0])
    a = load(src)
    quadrants = [(0, 0, 200, 150), (200, 0, 200, 150), (0, 150, 200, 150), (200, 150, 200, 150)]
    assert all(changed(a, out, q) > 0.01 for q in quadrants)


def test_watermark_text_keeps_jpeg_and_alpha(samples, tmp_path):
    out = run_tool("watermark-text", samples / "photo.jpg", {"text": "x"}, tmp_path).outputs[0]
    assert out.suffix == ".jpg"
    png = load(run_tool("watermark-text", samples / "alpha.png", {"text": "x"}, tmp_path).outputs[0])
    assert png.hasalpha()


def test_watermark_text_bad_settings(samples, tmp_path):
    with pytest.raises(ValidationError):
        run_tool("watermark-text", samples / "photo.jpg", {"text": ""}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("watermark-text", samples / "photo.jpg", {"text": "a", "opacity": 150}, tmp_path)
    with pytest.raises(ToolError) as err:
        run_tool("watermark-text", samples / "photo.jpg", {"text": "a", "font": "no-such-font"}, tmp_path)
    assert err.value.status == 400


def test_watermark_image_region(tmp_path):
    base = flat(tmp_path, (0, 0, 0), (400, 300), "base.png")
    mark = flat(tmp_path, (255, 255, 255), (100, 50), "mark.png")
    result = run_tool("watermark-image", [base, mark], {"position": "top-left", "scale": 50, "opacity": 100},
                      tmp_path, roles=["file", "watermark"])
    out = load(result.outputs[0])
    box = result.extra["watermarkBox"]
    assert box["width"] == 200 and box["height"] == 100
    assert out.crop(box["left"] + 5, box["top"] + 5, 190, 90).min() == 255
    assert out.crop(0, 200, 400, 100).max() == 0
    half = load(run_tool("watermark-image", [base, mark], {"position": "center", "opacity": 50}, tmp_path).outputs[0])
    assert 110 < half.getpoint(200, 150)[0] < 145


def test_text_overlay_with_box(tmp_path):
    src = flat(tmp_path, (255, 255, 255))
    result = run_tool("text-overlay", src, {"text": "Hi", "x": 20, "y": 30, "color": "#ffffff",
                                             "background": "#0000ff", "padding": 10, "borderRadius": 6}, tmp_path)
    out = load(result.outputs[0])
    box = result.extra["box"]
    assert (box["left"], box["top"]) == (20, 30)
    inside = out.getpoint(box["left"] + box["width"] // 2, box["top"] + 3)  # in the padding band: blue
    assert inside[2] > 200 and inside[0] < 50
    assert out.getpoint(box["left"] + 1, box["top"] + 1)[0] > 200  # rounded corner stays white
    assert out.getpoint(300, 250) == [255, 255, 255]


def test_text_overlay_centred_without_box(tmp_path):
    src = flat(tmp_path, (0, 0, 0))
    result = run_tool("text-overlay", src, {"text": "Centre", "color": "#00ff00", "fontSize": 30}, tmp_path)
    box = result.extra["box"]
    assert abs(box["left"] + box["width"] / 2 - 200) <= 1 and abs(box["top"] + box["height"] / 2 - 150) <= 1
    out = load(result.outputs[0])
    assert out.crop(box["left"], box["top"], box["width"], box["height"])[1].max() > 200


@pytest.mark.parametrize("blend, expected", [("over", (200, 100, 0)), ("multiply", (78, 39, 0)),
                                             ("screen", (222, 161, 100)), ("difference", (100, 0, 100))])
def test_compose_blend_modes(tmp_path, blend, expected):
    base = flat(tmp_path, (100, 100, 100), (200, 200), "base.png")
    top = flat(tmp_path, (200, 100, 0), (50, 50), "top.png")
    out = load(run_tool("compose", [base, top], {"x": 10, "y": 20, "blend": blend}, tmp_path,
                        roles=["file", "overlay"]).outputs[0])
    got = out.getpoint(30, 40)
    assert all(abs(g - e) <= 3 for g, e in zip(got, expected, strict=False)), got
    assert out.getpoint(5, 5)[:3] == [100, 100, 100]
    assert out.getpoint(61, 40)[:3] == [100, 100, 100]


def test_compose_opacity_and_offsets(tmp_path):
    base = flat(tmp_path, (0, 0, 0), (100, 100), "base.png")
    top = flat(tmp_path, (200, 200, 200), (60, 60), "top.png")
    out = load(run_tool("compose", [base, top], {"x": -30, "y": 70, "opacity": 50}, tmp_path).outputs[0])
    assert (out.width, out.height) == (100, 100)
    assert 95 <= out.getpoint(10, 80)[0] <= 105
    assert out.getpoint(50, 80)[0] == 0


def test_compose_bad_second_input(samples, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("compose", [samples / "photo.png", samples / "text.png"], {}, tmp_path)
    assert err.value.status == 400


def test_meme_template_mode(tmp_path):
    result = run_tool("meme-generator", [], {"templateId": "two-buttons", "textBoxes": [
        {"id": "left", "text": "write tests"}, {"id": "right", "text": "ship it"},
        {"id": "bottom", "text": "me on friday"}]}, tmp_path)
    out = load(result.outputs[0])
    template = meme_templates.templates()["two-buttons"]
    assert (out.width, out.height) == (template["width"], template["height"])
    blank = load(meme_templates.assets_dir() / "full" / "two-buttons.jpg")
    for placed in result.extra["textBoxes"]:
        spec = next(b for b in template["textBoxes"] if b["id"] == placed["id"])
        assert changed(blank, out, (spec["x"], spec["y"], spec["width"], spec["height"])) > 0.03, placed["id"]
    assert {b["id"] for b in result.extra["textBoxes"]} == {"left", "right", "bottom"}


def test_meme_custom_image_layouts(tmp_path):
    src = flat(tmp_path, (60, 60, 60), (600, 400))
    top_bottom = run_tool("meme-generator", src, {"textBoxes": [{"text": "top text"}, {"text": "bottom text"}],
                                                  "textColor": "#ffffff", "strokeColor": "#000000"}, tmp_path)
    out = load(top_bottom.outputs[0])
    a = load(src)
    assert changed(a, out, (0, 0, 600, 90)) > 0.05 and changed(a, out, (0, 310, 600, 90)) > 0.05
    assert changed(a, out, (0, 150, 600, 100)) == 0
    assert out.crop(0, 0, 600, 90)[0].max() > 240 and out.crop(0, 0, 600, 90)[0].min() < 20  # fill + stroke
    side = run_tool("meme-generator", src, {"textLayout": "side-by-side", "fontFamily": "comic-sans",
                                            "textBoxes": [{"id": "left", "text": "a"}, {"id": "right", "text": "b"}]},
                    tmp_path)
    assert [b["id"] for b in side.extra["textBoxes"]] == ["left", "right"]
    sized = run_tool("meme-generator", src, {"textLayout": "center", "fontSize": 30, "allCaps": False,
                                             "textBoxes": [{"text": "hello"}]}, tmp_path)
    assert sized.extra["textBoxes"][0]["fontSize"] == 30


def test_meme_long_text_wraps_inside_box(tmp_path):
    result = run_tool("meme-generator", [], {"templateId": "classic", "textBoxes": [
        {"id": "top", "text": "a very long sentence that certainly cannot fit on one single line of this meme"}]},
        tmp_path)
    placed = result.extra["textBoxes"][0]
    assert placed["height"] <= 130 and placed["fontSize"] < 60


def test_meme_errors(samples, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("meme-generator", [], {"templateId": "nope"}, tmp_path)
    assert err.value.status == 400
    with pytest.raises(ToolError):
        run_tool("meme-generator", [], {}, tmp_path)
    with pytest.raises(ToolError):
        run_tool("meme-generator", [], {"templateId": "classic", "textBoxes": [{"id": "zzz", "text": "x"}]}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("meme-generator", [], {"templateId": "classic", "fontFamily": "wingdings"}, tmp_path)
    with pytest.raises(ToolError):
        run_tool("meme-generator", samples / "corrupt.jpg", {"textBoxes": [{"text": "x"}]}, tmp_path)


def test_fonts_resolve_to_real_files():
    for family in _fonts.MEME_FAMILIES:
        path = _fonts.font_file(family)
        assert path.is_file() and path.suffix in (".ttf", ".otf")
    assert _fonts.font_path("Arial") == _fonts.font_file("sans")
    assert _fonts.font_path("Comic Sans") == _fonts.font_file("comic-sans")
    listing = {f["family"]: f["filename"] for f in meme_templates.font_listing()}
    assert meme_templates.font_for_filename(listing["anton"]) == _fonts.font_file("anton")
    assert meme_templates.font_for_filename("../../etc/passwd") is None


@pytest.mark.parametrize("tool_id, extra", [("watermark-text", {"text": "x"}), ("text-overlay", {"text": "x"})])
def test_streamed_overlays_reject_truncated_and_honour_orientation(samples, tmp_path, tool_id, extra):
    for name in ("truncated.jpg", "corrupt.jpg", "text.png"):
        with pytest.raises(ToolError) as err:
            run_tool(tool_id, samples / name, extra, tmp_path)
        assert err.value.status == 400, name
    out = load(run_tool(tool_id, samples / "oriented.jpg", extra, tmp_path).outputs[0])
    assert (out.width, out.height) == (300, 400)
