"""The five essential image tools, checked on real images: dimensions, formats, orientation, sizes."""

from __future__ import annotations

import pytest
import pyvips

from protocols.errors import ToolError
from protocols.tools import Limits
from tests.helpers import run_tool


def dims(path):
    im = pyvips.Image.new_from_file(str(path))
    return im.width, im.height


def loader(path):
    return pyvips.Image.new_from_file(str(path)).get("vips-loader")


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({"width": 200}, (200, 150)),
        ({"height": 60}, (80, 60)),
        ({"width": 100, "height": 100, "fit": "cover"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "contain"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "fill"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "inside"}, (100, 75)),
        ({"width": 100, "height": 100, "fit": "outside"}, (134, 100)),
        ({"percentage": 50}, (200, 150)),
        ({"width": 800, "withoutEnlargement": True}, (400, 300)),
        ({"preset": "instagram-square"}, (1080, 1080)),
    ],
)
def test_resize_modes(samples, tmp_path, settings, expected):
    result = run_tool("resize", samples / "photo.jpg", settings, tmp_path)
    assert dims(result.outputs[0]) == expected
    assert result.outputs[0].suffix == ".jpg"


def test_resize_contain_pads_with_background(samples, tmp_path):
    out = run_tool("resize", samples / "photo.jpg", {"width": 100, "height": 100, "fit": "contain",
                                                     "background": "#ff0000"}, tmp_path).outputs[0]
    im = pyvips.Image.new_from_file(str(out))
    top_pixel = im.getpoint(50, 2)
    assert top_pixel[0] > 200 and top_pixel[1] < 60  # red padding above the 100x75 picture


def test_resize_keeps_format_and_honours_exif(samples, tmp_path):
    png = run_tool("resize", samples / "photo.png", {"width": 100}, tmp_path).outputs[0]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # stored 400x300 with orientation 6: seen as 300x400, so width 150 -> height 200
    out = run_tool("resize", samples / "oriented.jpg", {"width": 150}, tmp_path).outputs[0]
    assert dims(out) == (150, 200)


def test_resize_heic_avif_inputs(samples, tmp_path):
    heic = run_tool("resize", samples / "photo.heic", {"width": 100}, tmp_path).outputs[0]
    assert heic.suffix == ".heic" and heic.read_bytes()[4:12] in (b"ftypheic", b"ftypmif1")
    avif = run_tool("resize", samples / "photo.avif", {"width": 100}, tmp_path).outputs[0]
    assert dims(avif) == (100, 75) and loader(avif).startswith("heifload")


def test_crop_px_and_percent(samples, tmp_path):
    out = run_tool("crop", samples / "photo.png", {"left": 100, "top": 50, "width": 120, "height": 80}, tmp_path)
    im = pyvips.Image.new_from_file(str(out.outputs[0]))
    assert (im.width, im.height) == (120, 80)
    # the gradient encodes x in red: the crop's left edge is x=100 of the source
    assert abs(im.getpoint(0, 0)[0] - 100 * 255 / 399) < 2
    pct = run_tool("crop", samples / "photo.png", {"left": 50, "top": 50, "width": 50, "height": 50, "unit": "percent"},
                   tmp_path)
    assert dims(pct.outputs[0]) == (200, 150)


def test_crop_outside_image_is_a_client_error(samples, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("crop", samples / "photo.png", {"left": 390, "top": 0, "width": 50, "height": 10}, tmp_path)
    assert err.value.status == 400


def test_rotate_right_angle_free_angle_and_flips(samples, tmp_path):
    assert dims(run_tool("rotate", samples / "photo.png", {"angle": 90}, tmp_path).outputs[0]) == (300, 400)
    free = run_tool("rotate", samples / "photo.png", {"angle": 45, "background": "#00ff00"}, tmp_path).outputs[0]
    im = pyvips.Image.new_from_file(str(free))
    assert im.width > 400 and im.height > 300
    corner = im.getpoint(1, 1)
    assert corner[1] > 200 and corner[0] < 60  # green fill in the corner
    flipped = pyvips.Image.new_from_file(str(run_tool("rotate", samples / "photo.png", {"horizontal": True},
                                                      tmp_path).outputs[0]))
    assert flipped.getpoint(0, 0)[0] > 250  # the right edge (red=255) is now on the left


@pytest.mark.parametrize("fmt, magic", [
    ("jpg", b"\xff\xd8\xff"), ("png", b"\x89PNG"), ("webp", b"RIFF"), ("tiff", b"II*\x00"), ("gif", b"GIF8"),
])
def test_convert_formats(samples, tmp_path, fmt, magic):
    out = run_tool("convert", samples / "photo.png", {"format": fmt}, tmp_path).outputs[0]
    assert out.read_bytes()[: len(magic)] == magic
    assert dims(out) == (400, 300)


@pytest.mark.parametrize("fmt, brand", [("avif", b"avif"), ("heic", b"heic"), ("heif", b"heic")])
def test_convert_heif_family(samples, tmp_path, fmt, brand):
    out = run_tool("convert", samples / "photo.jpg", {"format": fmt, "quality": 70}, tmp_path).outputs[0]
    head = out.read_bytes()[:32]
    assert head[4:8] == b"ftyp" and (brand in head or b"mif1" in head)
    assert out.suffix == f".{fmt}"


def test_convert_decodes_heic(samples, tmp_path):
    out = run_tool("convert", samples / "photo.heic", {"format": "png"}, tmp_path).outputs[0]
    assert dims(out) == (400, 300)


def test_compress_quality_makes_smaller(samples, tmp_path):
    src = samples / "photo.jpg"
    out = run_tool("compress", src, {"quality": 30}, tmp_path).outputs[0]
    assert out.stat().st_size < src.stat().st_size
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_compress_streams_the_same_bytes_for_every_orientation(samples, tmp_path, orientation):
    # quality mode decodes row by row into the encoder; its output must equal an encode of the whole
    # decoded, EXIF-rotated picture
    from actors.common import imageio as v

    src = tmp_path / f"oriented{orientation}.jpg"
    image = pyvips.Image.new_from_file(str(samples / "photo.jpg"))
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    image.jpegsave(str(src), Q=90, keep="exif")
    out = run_tool("compress", src, {"quality": 60}, tmp_path).outputs[0]
    whole, _ = v.load_upright(src, Limits(max_megapixels=250))
    assert out.read_bytes() == v.encode(whole, "jpeg", 60)
    assert dims(out) == ((300, 400) if orientation >= 5 else (400, 300))


@pytest.mark.parametrize("name", ["photo.png", "alpha.png", "photo.webp", "photo.heic", "photo.avif"])
def test_compress_streams_the_same_bytes_for_each_format(samples, tmp_path, name):
    from actors.common import imageio as v
    from actors.image.compress import _lossy_format

    out = run_tool("compress", samples / name, {"quality": 50}, tmp_path).outputs[0]
    whole, fmt = v.load_upright(samples / name, Limits(max_megapixels=250))
    fmt = _lossy_format(v.output_format(fmt))
    if fmt in ("avif", "heic"):  # the HEIF encoders are not byte-deterministic run to run
        assert out.read_bytes()[4:12] == v.encode(whole, fmt, 50)[4:12]
        assert dims(out) == (400, 300)
    else:
        assert out.read_bytes() == v.encode(whole, fmt, 50)


@pytest.mark.parametrize("name", ["corrupt.jpg", "truncated.jpg", "text.png", "empty.png"])
def test_compress_bad_images_are_client_errors(samples, tmp_path, name):
    # streamed, a truncated file fails in the encoder's read, not at open: still a client error
    with pytest.raises(ToolError) as err:
        run_tool("compress", samples / name, {"quality": 60}, tmp_path)
    assert 400 <= err.value.status < 500, name


def test_compress_target_size_is_met(samples, tmp_path):
    result = run_tool("compress", samples / "large.jpg", {"mode": "targetSize", "targetSizeKb": 120}, tmp_path)
    assert result.extra["targetMet"] is True
    assert result.outputs[0].stat().st_size <= 120 * 1024


def test_compress_target_size_best_effort(samples, tmp_path):
    result = run_tool("compress", samples / "large.jpg", {"mode": "targetSize", "targetSizeKb": 1}, tmp_path)
    assert result.extra["targetMet"] is False and "message" in result.extra


def test_bad_images_are_client_errors(samples, tmp_path):
    for name in ("text.png", "corrupt.jpg", "truncated.jpg"):
        with pytest.raises(ToolError) as err:
            run_tool("resize", samples / name, {"width": 50}, tmp_path)
        assert 400 <= err.value.status < 500, name


def test_megapixel_limit(samples, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("resize", samples / "large.jpg", {"width": 50}, tmp_path, limits=Limits(max_megapixels=1))
    assert err.value.status == 413
