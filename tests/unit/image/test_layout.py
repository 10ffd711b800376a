"""Layout (part 2): collage, stitch, split, border, beautify, circle-crop, image-pad, sprite-sheet."""

from __future__ import annotations

import json
import zipfile

import pytest
import pyvips
from pydantic import ValidationError

from actors.image.collage import TEMPLATES
from protocols.errors import ToolError
from tests.helpers import run_tool


def solid(path, w, h, rgb):
    (pyvips.Image.black(w, h, bands=3) + list(rgb)).cast("uchar").copy(interpretation="srgb").pngsave(str(path))
    return path


def load(path):
    return pyvips.Image.new_from_file(str(path))


@pytest.fixture()
def colours(tmp_path):
    return [solid(tmp_path / "red.png", 120, 80, (255, 0, 0)), solid(tmp_path / "green.png", 60, 100, (0, 255, 0)),
            solid(tmp_path / "blue.png", 90, 90, (0, 0, 255))]


def test_collage_has_25_plus_templates_and_places_cells(colours, tmp_path):
    assert len(TEMPLATES) >= 25
    r = run_tool("collage", colours[:2], {"template": "2-horizontal", "width": 400, "height": 200, "gap": 10,
                                          "backgroundColor": "#000000"}, tmp_path)
    im = load(r.outputs[0])
    assert (im.width, im.height) == (400, 200)
    assert im.getpoint(100, 100)[:3] == [255, 0, 0] and im.getpoint(300, 100)[:3] == [0, 255, 0]
    assert im.getpoint(200, 100)[:3] == [0, 0, 0] and im.getpoint(3, 3)[:3] == [0, 0, 0]  # the gaps
    cells = r.extra["cells"]
    assert cells[0] == {"image": 0, "left": 10, "top": 10, "width": 185, "height": 180}


def test_collage_png_stays_lossless(tmp_path):
    """The default quality (90) is for jpeg/webp: a PNG collage keeps every colour of a gradient tile."""
    x = pyvips.Image.xyz(256, 256)
    gradient = x[0].bandjoin([x[1], (x[0] + x[1]) // 2]).cast("uchar").copy(interpretation="srgb")
    gradient.pngsave(str(tmp_path / "gradient.png"))
    r = run_tool("collage", [tmp_path / "gradient.png"], {"template": "1-single", "width": 256, "height": 256,
                                                            "gap": 0, "format": "png"}, tmp_path)
    out = load(r.outputs[0])
    assert out.get("interpretation") == "srgb" and out.bands >= 3
    colours = {tuple(px) for px in out.extract_band(0, n=3).numpy().reshape(-1, 3).tolist()}
    assert len(colours) > 10_000  # a palette PNG would hold at most 256


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders(colours, tmp_path, template):
    r = run_tool("collage", colours[: len(TEMPLATES[template])], {"template": template, "width": 300, "height": 240, "borderRadius": 8}, tmp_path)
    assert (load(r.outputs[0]).width, load(r.outputs[0]).height) == (300, 240)
    assert len(r.extra["cells"]) == len(TEMPLATES[template])


def test_collage_rejects_too_many_images(colours, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("collage", colours, {"template": "2-vertical"}, tmp_path)
    assert err.value.status == 400
    with pytest.raises(ValidationError):
        run_tool("collage", colours, {"template": "no-such"}, tmp_path)
    with pytest.raises(ToolError) as err:
        run_tool("collage", colours, {"width": 100, "height": 100, "gap": 150}, tmp_path)
    assert err.value.status == 400


def test_stitch_horizontal_vertical_grid(colours, tmp_path):
    h = run_tool("stitch", colours, {"direction": "horizontal", "gap": 5, "matchSize": False, "alignment": "start"},
                 tmp_path)
    im = load(h.outputs[0])
    assert (im.width, im.height) == (120 + 60 + 90 + 10, 100)
    assert im.getpoint(10, 10)[:3] == [255, 0, 0] and im.getpoint(125 + 30, 50)[:3] == [0, 255, 0]
    assert im.getpoint(10, 90)[:3] == [255, 255, 255]  # below the 80 px red image: background (start aligned)
    matched = load(run_tool("stitch", colours, {"direction": "horizontal"}, tmp_path).outputs[0])
    assert matched.height == 80 and matched.width == 120 + 48 + 80
    v = load(run_tool("stitch", colours, {"direction": "vertical", "matchSize": False}, tmp_path).outputs[0])
    assert (v.width, v.height) == (120, 80 + 100 + 90)
    g = run_tool("stitch", colours + [colours[0]], {"direction": "grid", "matchSize": False, "gap": 4}, tmp_path)
    assert (g.extra["width"], g.extra["height"]) == (120 * 2 + 4, 100 * 2 + 4)


@pytest.mark.parametrize("settings, grid, sizes", [
    ({"mode": "grid", "rows": 3, "cols": 4}, (3, 4), {(100, 100)}),
    ({"mode": "rows", "rows": 2}, (2, 1), {(400, 150)}),
    ({"mode": "cols", "cols": 3}, (1, 3), {(133, 300), (134, 300)}),
    ({"tileWidth": 150, "tileHeight": 200}, (2, 3), {(150, 200), (100, 200), (150, 100), (100, 100)}),
])
def test_split_tiles(samples, tmp_path, settings, grid, sizes):
    r = run_tool("split", samples / "photo.png", settings, tmp_path)
    rows, cols = grid
    assert (r.extra["rows"], r.extra["cols"]) == (rows, cols)
    tiles = r.outputs[1:] if len(r.outputs) > 1 else r.outputs
    assert len(tiles) == rows * cols
    assert {(load(t).width, load(t).height) for t in tiles} == sizes
    with zipfile.ZipFile(r.outputs[0]) as zf:
        assert len(zf.namelist()) == rows * cols
    if settings.get("mode") == "grid":  # tile r2 c3 starts at x=200, y=100 of the gradient
        tile = load(next(t for t in tiles if t.stem.endswith("r2_c3")))
        assert abs(tile.getpoint(0, 0)[0] - 200 * 255 / 399) < 2 and abs(tile.getpoint(0, 0)[1] - 100 * 255 / 299) < 2


def test_split_too_small(samples, tmp_path):
    with pytest.raises(ToolError):
        run_tool("split", samples / "small.png", {"mode": "grid", "rows": 100, "cols": 100}, tmp_path)


@pytest.mark.parametrize("style", ["solid", "gradient", "pattern"])
def test_border_styles(samples, tmp_path, style):
    r = run_tool("border", samples / "photo.jpg", {"width": 15, "style": style, "color": "#ff0000",
                                                   "color2": "#0000ff", "padding": 5}, tmp_path)
    im = load(r.outputs[0])
    assert (im.width, im.height) == (400 + 40, 300 + 40)
    if style == "solid":
        red = im.getpoint(3, 3)
        assert red[0] > 250 and red[1] < 5 and red[2] < 5  # (JPEG in, JPEG out)
        assert min(im.getpoint(17, 17)[:3]) >= 250  # white padding
    if style == "gradient":
        a, b = im.getpoint(2, 2), im.getpoint(437, 337)
        assert a[0] > 200 and b[2] > 200  # red at one corner, blue at the other


def test_border_radius_and_shadow_make_transparent_png(samples, tmp_path):
    r = run_tool("border", samples / "photo.jpg", {"width": 10, "borderRadius": 40, "shadow": True,
                                                   "shadowBlur": 10}, tmp_path)
    im = load(r.outputs[0])
    assert r.outputs[0].suffix == ".png" and im.bands == 4
    assert im.width > 420 and im.getpoint(0, 0)[3] == 0


@pytest.mark.parametrize("frame", ["none", "macos-dark", "windows-light", "browser-light", "iphone", "ipad",
                                   "macbook", "android"])
def test_beautify_frames(samples, tmp_path, frame):
    r = run_tool("beautify", samples / "photo.png", {"frame": frame, "padding": 40, "backgroundType": "solid",
                                                     "backgroundColor": "#00ff00", "watermarkText": "lutra"},
                 tmp_path)
    im = load(r.outputs[0])
    assert im.width >= 400 + 80 and im.height >= 300 + 80
    assert im.getpoint(2, 2)[:3] == [0, 255, 0]  # the background shows at the corner
    centre = im.getpoint(im.width // 2, im.height // 2)
    assert centre[2] > 100 and centre[1] < 200  # the screenshot (blue 128 in the gradient) sits in the middle


def test_beautify_social_preset_and_gradient(samples, tmp_path):
    r = run_tool("beautify", samples / "photo.png", {"socialPreset": "instagram-square", "frame": "macos-light",
                                                     "gradientStops": ["#ff0000", "#0000ff"], "gradientAngle": 90},
                 tmp_path)
    im = load(r.outputs[0])
    assert (im.width, im.height) == (1080, 1080)
    left, right = im.getpoint(5, 540), im.getpoint(1074, 540)
    assert left[0] > 200 and right[2] > 200


def test_beautify_image_background_needs_second_file(samples, tmp_path):
    with pytest.raises(ToolError):
        run_tool("beautify", samples / "photo.png", {"backgroundType": "image"}, tmp_path)
    bg = solid(tmp_path / "bg.png", 50, 50, (255, 255, 0))
    r = run_tool("beautify", [samples / "photo.png", bg], {"backgroundType": "image", "shadowPreset": "none"},
                 tmp_path, roles=["file", "background"])
    assert load(r.outputs[0]).getpoint(3, 3)[:3] == [255, 255, 0]


def test_circle_crop(samples, tmp_path):
    r = run_tool("circle-crop", samples / "photo.png", {}, tmp_path)
    im = load(r.outputs[0])
    assert (im.width, im.height) == (300, 300) and im.bands == 4
    assert im.getpoint(0, 0)[3] == 0 and im.getpoint(150, 150)[3] == 255
    assert abs(im.getpoint(150, 150)[0] - 200 * 255 / 399) < 3  # centred on x=200 of the gradient
    ring = load(run_tool("circle-crop", samples / "photo.png", {"zoom": 2, "borderWidth": 10, "borderColor": "#ff0000",
                                                                "outputSize": 200, "background": "#000000",
                                                                "offsetX": 100}, tmp_path).outputs[0])
    assert (ring.width, ring.height) == (200, 200)
    assert ring.getpoint(100, 4)[:3] == [255, 0, 0] and ring.getpoint(0, 0)[:4] == [0, 0, 0, 255]
    with pytest.raises(ValidationError):
        run_tool("circle-crop", samples / "photo.png", {"zoom": 9}, tmp_path)


@pytest.mark.parametrize("target, expected", [("16:9", (533, 300)), ("1:1", (400, 400)), ("9:16", (400, 711)),
                                              ("4:3", (400, 300))])
def test_image_pad_ratios(samples, tmp_path, target, expected):
    r = run_tool("image-pad", samples / "photo.png", {"target": target, "color": "#ff0000"}, tmp_path)
    im = load(r.outputs[0])
    assert (im.width, im.height) == expected
    if expected != (400, 300):
        assert im.getpoint(0, 0)[:3] == [255, 0, 0]


def test_image_pad_transparent_blur_custom(samples, tmp_path):
    t = load(run_tool("image-pad", samples / "photo.jpg", {"target": "1:1", "background": "transparent"},
                      tmp_path).outputs[0])
    assert t.bands == 4 and t.getpoint(0, 0)[3] == 0 and t.getpoint(200, 200)[3] == 255
    b = load(run_tool("image-pad", samples / "photo.jpg", {"target": "1:1", "background": "blur"}, tmp_path).outputs[0])
    assert (b.width, b.height) == (400, 400) and b.getpoint(200, 10)[0] > 50  # blurred picture, not white/black
    c = run_tool("image-pad", samples / "photo.png", {"target": "custom", "ratioW": 2, "ratioH": 1, "padding": 10},
                 tmp_path)
    assert (c.extra["width"], c.extra["height"]) == (760, 380)
    with pytest.raises(ValidationError):
        run_tool("image-pad", samples / "photo.png", {"target": "custom"}, tmp_path)


def test_sprite_sheet_with_map(colours, tmp_path):
    r = run_tool("sprite-sheet", colours, {"columns": 2, "padding": 2}, tmp_path,
                 names=["red.png", "green.png", "blue.png"])
    zip_path, sheet, mapping = r.outputs
    data = json.loads(mapping.read_text())
    im = load(sheet)
    assert (im.width, im.height) == (2 * 124, 2 * 104) == (data["meta"]["size"]["w"], data["meta"]["size"]["h"])
    for name, rgb in (("red", [255, 0, 0]), ("green", [0, 255, 0]), ("blue", [0, 0, 255])):
        f = data["frames"][name]["frame"]
        assert im.getpoint(f["x"] + f["w"] // 2, f["y"] + f["h"] // 2)[:3] == rgb
        assert im.getpoint(f["x"] + f["w"] - 1, f["y"] + f["h"] - 1)[:3] == rgb
    assert data["frames"]["blue"]["frame"] == {"x": 2, "y": 106, "w": 90, "h": 90}
    with zipfile.ZipFile(zip_path) as zf:
        assert sorted(zf.namelist()) == ["spritesheet.json", "spritesheet.png"]
    with pytest.raises(ValidationError):
        run_tool("sprite-sheet", colours, {"columns": 17}, tmp_path)


@pytest.mark.parametrize("alignment, red_top", [("start", 0), ("center", 10), ("end", 20)])
def test_stitch_alignment(colours, tmp_path, alignment, red_top):
    """The 80 px red image beside the 100 px green one sits at the top, middle or bottom of the 100 px row."""
    im = load(run_tool("stitch", colours[:2], {"direction": "horizontal", "matchSize": False,
                                               "alignment": alignment, "backgroundColor": "#000000"},
                       tmp_path).outputs[0])
    assert im.height == 100
    column = [im.getpoint(60, y)[:3] for y in range(100)]
    reds = [y for y, p in enumerate(column) if p == [255, 0, 0]]
    assert (reds[0], reds[-1]) == (red_top, red_top + 79)
    v = load(run_tool("stitch", colours[:2], {"direction": "vertical", "matchSize": False, "alignment": alignment,
                                              "backgroundColor": "#000000"}, tmp_path).outputs[0])
    greens = [x for x in range(v.width) if v.getpoint(x, 120)[:3] == [0, 255, 0]]  # 60 px green under 120 px red
    assert greens[0] == {"start": 0, "center": 30, "end": 60}[alignment] and len(greens) == 60


@pytest.mark.parametrize("background", ["radial-gradient", "transparent"])
def test_beautify_radial_and_transparent_backgrounds(samples, tmp_path, background):
    r = run_tool("beautify", samples / "photo.png", {"backgroundType": background, "gradientStops": ["#ff0000",
                                                     "#0000ff"], "padding": 60, "shadowPreset": "none",
                                                     "borderRadius": 0}, tmp_path)
    im = load(r.outputs[0])
    assert (im.width, im.height) == (400 + 120, 300 + 120)
    if background == "transparent":
        assert im.bands == 4 and im.getpoint(2, 2)[3] == 0 and im.getpoint(260, 210)[3] == 255
    else:  # red at the centre fading to blue at the corners, symmetric about the centre
        top_middle, corner, other_corner = im.getpoint(260, 30), im.getpoint(1, 1), im.getpoint(518, 418)
        assert top_middle[0] > corner[0] + 30 and corner[2] > top_middle[2] + 30 and corner[2] > corner[0]
        assert all(abs(a - b) <= 2 for a, b in zip(corner, other_corner, strict=True))
