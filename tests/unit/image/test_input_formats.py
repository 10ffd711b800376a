"""Image inputs beyond libvips' own loaders: BMP, ICO, PSD (the flattened composite), JPEG XL, and SVG
(sanitised and rasterised at its own size) reach every image tool."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import pyvips
from PIL import Image

from protocols.errors import ToolError
from protocols.tools import REGISTRY
from tests.helpers import run_tool

RED, BLUE = (220, 30, 40), (20, 60, 200)


def two_colour(size=(120, 80)) -> Image.Image:
    """Left half red, right half blue: position and colour survive a decode, or they do not."""
    img = Image.new("RGB", size, RED)
    img.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return img


def psd_bytes(img: Image.Image) -> bytes:
    """A minimal Photoshop file: header, no colour mode data, no resources, no layers, and the flattened
    composite as raw (uncompressed) planar RGB, as the file format specification lays it out."""
    w, h = img.size
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, h, w, 8, 3)
    sections = struct.pack(">I", 0) * 3  # colour mode data, image resources, layer and mask info
    planes = b"".join(np.asarray(img)[:, :, c].tobytes() for c in range(3))
    return header + sections + struct.pack(">H", 0) + planes


def write(tmp_path, fmt: str):
    img = two_colour()
    path = tmp_path / f"in.{fmt}"
    if fmt == "psd":
        path.write_bytes(psd_bytes(img))
    elif fmt == "jxl":
        import pillow_jxl  # noqa: F401

        img.save(path, lossless=True)
    elif fmt == "ico":
        big = img.resize((64, 64))
        big.save(path, sizes=[(16, 16), (32, 32), (64, 64)])
    else:
        img.save(path)
    return path


def colours(path):
    image = pyvips.Image.new_from_file(str(path))
    y = image.height // 2
    return image.getpoint(5, y)[:3], image.getpoint(image.width - 6, y)[:3], (image.width, image.height)


def near(a, b, tol=6):
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=False))


@pytest.mark.parametrize("fmt", ["bmp", "ico", "psd", "jxl"])
def test_image_tools_read_other_formats(tmp_path, fmt):
    path = write(tmp_path, fmt)
    info = run_tool("info", path, {}, tmp_path).extra
    expected = (64, 64) if fmt == "ico" else (120, 80)  # the icon's largest size
    assert (info["width"], info["height"]) == expected and info["format"] == fmt
    out = run_tool("resize", path, {"width": 60}, tmp_path).outputs[0]
    left, right, size = colours(out)
    assert out.suffix == ".png" and size[0] == 60
    assert near(left, RED) and near(right, BLUE), (left, right)
    flipped = run_tool("rotate", path, {"angle": 180}, tmp_path).outputs[0]
    left, right, _ = colours(flipped)
    assert near(left, BLUE) and near(right, RED)


@pytest.mark.parametrize("fmt", ["bmp", "psd"])
def test_corrupt_other_formats_are_a_client_error(tmp_path, fmt):
    path = write(tmp_path, fmt)
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ToolError) as err:
        run_tool("resize", path, {"width": 10}, tmp_path)
    assert err.value.status == 400


SVG = (b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
       b'"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
       b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="300" height="150">'
       b'<rect width="150" height="150" fill="#dc1e28"/><rect x="150" width="150" height="150" fill="#143cc8"/>'
       b'<image x="0" y="0" width="300" height="150" xlink:href="file:///etc/passwd"/>'
       b'<script>alert(1)</script></svg>')


@pytest.mark.parametrize(("tool_id", "settings", "size"), [
    ("resize", {"width": 150}, (150, 75)),
    ("rotate", {"angle": 90}, (150, 300)),
    ("convert", {"format": "jpg"}, (300, 150)),
    ("sharpening", {}, (300, 150)),
    ("watermark-text", {"text": "x"}, (300, 150)),
])
def test_svg_goes_to_image_tools_rasterised_at_its_own_size(tmp_path, tool_id, settings, size):
    path = tmp_path / "drawing.svg"
    path.write_bytes(SVG)
    out = run_tool(tool_id, path, settings, tmp_path).outputs[0]
    image = pyvips.Image.new_from_file(str(out))
    assert (image.width, image.height) == size
    assert out.suffix in (".png", ".jpg")
    if tool_id != "rotate":
        left, right, _ = colours(out)
        assert near(left, RED, 12) and near(right, BLUE, 12)


def test_svg_info_and_every_image_tool_accepts_svg(tmp_path):
    path = tmp_path / "drawing.svg"
    path.write_bytes(SVG)
    info = run_tool("info", path, {}, tmp_path).extra
    assert (info["width"], info["height"], info["format"]) == (300, 150, "svg")
    for spec in REGISTRY.values():
        if "image" in spec.accepts and spec.family.value in ("image", "vision"):
            assert "svg" in spec.accepts, spec.id


def test_svg_with_entities_is_refused_by_image_tools(tmp_path):
    path = tmp_path / "bomb.svg"
    path.write_bytes(b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">]>'
                     b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&a;</text></svg>')
    with pytest.raises(ToolError) as err:
        run_tool("resize", path, {"width": 5}, tmp_path)
    assert err.value.status == 400


def test_svg_over_the_pixel_limit_is_refused(tmp_path):
    from protocols.tools import Limits

    path = tmp_path / "huge.svg"
    path.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg" width="20000" height="20000"/>')
    with pytest.raises(ToolError) as err:
        run_tool("info", path, {}, tmp_path, limits=Limits(max_megapixels=10))
    assert err.value.status == 413


def test_huge_bmp_header_is_refused_before_decoding(tmp_path):
    """A BMP claiming 30000×30000 pixels: over the server's limit a 413; with no limit, Pillow's own cap."""
    from protocols.tools import Limits

    header = struct.pack("<2sIHHI", b"BM", 54 + 16, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, 30000, 30000, 1, 24, 0, 16, 2835, 2835, 0, 0)
    path = tmp_path / "huge.bmp"
    path.write_bytes(header + info + b"\x00" * 16)
    for limits in (Limits(max_megapixels=100), Limits(max_megapixels=0)):
        with pytest.raises(ToolError) as err:
            run_tool("info", path, {}, tmp_path, limits=limits)
        assert err.value.status == 413
