"""The load harness's bare resize is the resize tool's own pyvips pipeline, byte for byte: a baseline that
did more (or less) work than the tool would credit (or charge) the HTTP path with the difference."""

from __future__ import annotations

import pytest
import pyvips

from load.harness import bare


@pytest.mark.parametrize(("name", "size", "width", "fn"), [
    ("large.jpg", (4000, 3000), 800, bare.resize_jpeg),   # JPEG: shrink-on-load, then resize
    ("odd.jpg", (1333, 777), 300, bare.resize_jpeg),      # a factor that leaves a remainder
    ("small.png", (200, 150), 100, bare.resize_png),      # PNG: no shrink-on-load
])
def test_bare_resize_matches_the_tool(tmp_path, name, size, width, fn):
    image = pyvips.Image.xyz(*size).bandjoin(0)[0:3].cast("uchar")
    path = tmp_path / name
    image.write_to_file(str(path))
    assert fn(str(path), width) == bare.run_tool("resize", [str(path)], {"width": width})


@pytest.mark.parametrize("orientation", [1, 2])  # the orientations the tool streams
def test_bare_compress_matches_the_tool(tmp_path, orientation):
    image = pyvips.Image.gaussnoise(640, 480, sigma=30).bandjoin([100, 150]).cast("uchar").copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    path = tmp_path / "photo.jpg"
    image.jpegsave(str(path), Q=92, keep="exif")
    assert bare.compress_jpeg(str(path), 60) == bare.run_tool("compress", [str(path)], {"quality": 60})
