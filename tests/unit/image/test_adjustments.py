"""Adjustment tools checked on generated images: measured colours, not just "it ran"."""

from __future__ import annotations

import numpy as np
import pytest
import pyvips
from pydantic import ValidationError

from actors.image import color_blindness
from protocols.errors import ToolError
from tests.helpers import run_tool


def arr(path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy().astype(float)


def solid(tmp_path, color, size=(64, 48), name="solid.png", alpha=None):
    im = pyvips.Image.black(*size, bands=3).new_from_image(list(color)).cast("uchar").copy(interpretation="srgb")
    if alpha is not None:
        im = im.bandjoin(alpha)
    path = tmp_path / name
    im.pngsave(str(path))
    return path


def px(tmp_path, tool_id, color, settings):
    out = run_tool(tool_id, solid(tmp_path, color), settings, tmp_path).outputs[0]
    return arr(out)[10, 10]


def test_adjust_colors_controls(tmp_path):
    grey = (100, 100, 100)
    assert px(tmp_path, "adjust-colors", grey, {"brightness": 50})[0] == pytest.approx(164, abs=2)
    assert px(tmp_path, "adjust-colors", grey, {"exposure": 50})[0] == pytest.approx(200, abs=2)
    assert px(tmp_path, "adjust-colors", (150, 150, 150), {"contrast": 50})[0] > 160
    assert px(tmp_path, "adjust-colors", (150, 150, 150), {"contrast": -50})[0] < 145
    warm = px(tmp_path, "adjust-colors", grey, {"temperature": 60})
    assert warm[0] > 120 and warm[2] < 80
    magenta = px(tmp_path, "adjust-colors", grey, {"tint": 60})
    assert magenta[1] < 80 and magenta[0] == pytest.approx(100, abs=1)
    rgb = px(tmp_path, "adjust-colors", grey, {"red": 50, "green": -50, "blue": 0})
    assert rgb[0] > 150 and rgb[1] < 50 and rgb[2] == pytest.approx(100, abs=1)
    desat = px(tmp_path, "adjust-colors", (200, 50, 50), {"saturation": -100})
    assert max(desat) - min(desat) < 4
    more = px(tmp_path, "adjust-colors", (150, 100, 100), {"saturation": 80})
    assert more[0] - more[1] > 50
    rotated = px(tmp_path, "adjust-colors", (200, 40, 40), {"hue": 120})  # red -> greenish
    assert rotated[1] > rotated[0] and rotated[1] > rotated[2]


@pytest.mark.parametrize("effect, check", [
    ("grayscale", lambda p: max(p) - min(p) < 2),
    ("sepia", lambda p: p[0] > p[1] > p[2]),
    ("invert", lambda p: list(p) == [255 - 200, 255 - 50, 255 - 10]),
])
def test_adjust_colors_effects(tmp_path, effect, check):
    assert check(px(tmp_path, "adjust-colors", (200, 50, 10), {"effect": effect}))


def test_adjust_colors_keeps_alpha_and_format(samples, tmp_path):
    out = run_tool("adjust-colors", samples / "alpha.png", {"brightness": 10}, tmp_path).outputs[0]
    a = arr(out)
    assert a.shape[2] == 4 and a[..., 3].max() == 200
    jpg = run_tool("adjust-colors", samples / "photo.jpg", {"sharpness": 50}, tmp_path).outputs[0]
    assert jpg.suffix == ".jpg"


def edge_image(tmp_path):
    x = np.zeros((40, 80, 3), dtype=np.uint8)
    x[:, 40:] = 200
    x[:, :40] = 50
    path = tmp_path / "edge.png"
    pyvips.Image.new_from_array(x).copy(interpretation="srgb").gaussblur(1.5).cast("uchar").pngsave(str(path))
    return path


def contrast_at_edge(path) -> float:
    """Energy of the second derivative across the edge (the classic focus measure)."""
    a = arr(path)[20, :, 0]
    return float(np.abs(np.diff(a, 2)).sum())


@pytest.mark.parametrize("settings", [
    {"method": "adaptive", "m2": 5},
    {"method": "unsharp-mask", "amount": 200, "radius": 2},
    {"method": "high-pass", "strength": 80, "kernelSize": 5},
    {"method": "unsharp-mask", "amount": 300, "radius": 2, "denoise": "medium"},
])
def test_sharpening_increases_edge_contrast(tmp_path, settings):
    src = edge_image(tmp_path)
    out = run_tool("sharpening", src, settings, tmp_path).outputs[0]
    assert contrast_at_edge(out) > contrast_at_edge(src) * 1.15
    flat = arr(out)[20, 5, 0]
    assert flat == pytest.approx(50, abs=3)  # flat areas stay put


def test_sharpening_threshold_and_denoise(tmp_path):
    rng = np.random.default_rng(1)
    noisy = np.clip(128 + rng.normal(0, 6, (60, 60, 3)), 0, 255).astype(np.uint8)
    path = tmp_path / "noise.png"
    pyvips.Image.new_from_array(noisy).copy(interpretation="srgb").pngsave(str(path))
    calm = arr(run_tool("sharpening", path, {"method": "unsharp-mask", "amount": 300, "threshold": 40},
                        tmp_path).outputs[0])
    assert np.abs(calm - noisy).max() == 0  # below the threshold nothing is sharpened
    denoised = arr(run_tool("sharpening", path, {"method": "unsharp-mask", "amount": 0, "denoise": "strong"},
                            tmp_path).outputs[0])
    assert denoised.std() < noisy.std() / 2
    with pytest.raises(ValidationError):
        run_tool("sharpening", path, {"kernelSize": 4}, tmp_path)


def test_replace_color_replace_and_transparent(tmp_path):
    x = np.zeros((40, 80, 3), dtype=np.uint8)
    x[:, :40] = (250, 10, 10)
    x[:, 40:] = (10, 10, 250)
    path = tmp_path / "two.png"
    pyvips.Image.new_from_array(x).copy(interpretation="srgb").pngsave(str(path))
    result = run_tool("replace-color", path, {"sourceColor": "#ff0000", "targetColor": "#00ff00", "tolerance": 10},
                      tmp_path)
    out = arr(result.outputs[0])
    assert list(out[5, 5]) == [0, 255, 0] and list(out[5, 60]) == [10, 10, 250]
    assert result.extra["percentReplaced"] == pytest.approx(50, abs=0.1)
    clear = run_tool("replace-color", path, {"sourceColor": "#0000ff", "makeTransparent": True, "tolerance": 10},
                     tmp_path).outputs[0]
    a = arr(clear)
    assert a.shape[2] == 4 and a[5, 60, 3] == 0 and a[5, 5, 3] == 255
    exact = run_tool("replace-color", path, {"sourceColor": "#ff0000", "tolerance": 0}, tmp_path)
    assert exact.extra["pixelsReplaced"] == 0
    jpg = tmp_path / "two.jpg"
    pyvips.Image.new_from_file(str(path)).jpegsave(str(jpg))
    assert run_tool("replace-color", jpg, {"makeTransparent": True}, tmp_path).outputs[0].suffix == ".png"



@pytest.mark.parametrize("kind", list(color_blindness.MATRICES))
def test_color_blindness_matches_the_published_matrix(tmp_path, kind):
    color = (200, 60, 30)
    got = px(tmp_path, "color-blindness", color, {"simulationType": kind})
    lin = [(c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in color]
    m = np.array(color_blindness.MATRICES[kind])
    sim = np.clip(m @ np.array(lin), 0, 1)
    expected = [255 * (12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055) for c in sim]
    assert np.allclose(got, expected, atol=1.5), (got, expected)


def test_color_blindness_semantics(tmp_path):
    red, green = (220, 30, 30), (30, 160, 30)
    a = px(tmp_path, "color-blindness", red, {"simulationType": "deuteranopia"})
    b = px(tmp_path, "color-blindness", green, {"simulationType": "deuteranopia"})
    before = np.abs(np.array(red) - np.array(green)).sum()
    assert np.abs(a - b).sum() < before / 2  # red and green become much closer
    mono = px(tmp_path, "color-blindness", red, {"simulationType": "achromatopsia"})
    assert max(mono) - min(mono) <= 1
    assert list(px(tmp_path, "color-blindness", (255, 255, 255), {"simulationType": "blueConeMonochromacy"})) == \
        [255, 255, 255]
    default = run_tool("color-blindness", solid(tmp_path, red), {}, tmp_path)
    assert default.extra["simulationType"] == "deuteranomaly"
    with pytest.raises(ValidationError):
        run_tool("color-blindness", solid(tmp_path, red), {"simulationType": "catvision"}, tmp_path)


def test_duotone_two_colours(samples, tmp_path):
    out = arr(run_tool("duotone", samples / "photo.png", {"shadow": "#ff0000", "highlight": "#0000ff"},
                       tmp_path).outputs[0])
    # every pixel lies on the segment red -> blue: green is 0 and r + b = 255
    assert out[..., 1].max() <= 1
    assert np.abs(out[..., 0] + out[..., 2] - 255).max() <= 2
    black = px(tmp_path, "duotone", (0, 0, 0), {"shadow": "#112233", "highlight": "#ffeedd"})
    white = px(tmp_path, "duotone", (255, 255, 255), {"shadow": "#112233", "highlight": "#ffeedd"})
    assert list(black) == [0x11, 0x22, 0x33] and list(white) == [0xFF, 0xEE, 0xDD]
    half = px(tmp_path, "duotone", (255, 255, 255), {"shadow": "#000000", "highlight": "#ff0000", "intensity": 50})
    assert list(half) == pytest.approx([255, 128, 128], abs=1)


def test_pixelate_blocks_and_region(samples, tmp_path):
    out = arr(run_tool("pixelate", samples / "photo.png", {"blockSize": 20}, tmp_path).outputs[0])
    assert out.shape[:2] == (300, 400)
    block = out[0:20, 0:20]
    assert (block == block[0, 0]).all()  # one colour per block
    assert not (out[0:20, 20:40] == block[0, 0]).all()
    src = arr(samples / "photo.png")
    part = arr(run_tool("pixelate", samples / "photo.png", {"blockSize": 10,
                                                             "region": {"left": 100, "top": 100, "width": 50,
                                                                        "height": 50}}, tmp_path).outputs[0])
    assert (part[0:100] == src[0:100]).all() and (part[:, 200:] == src[:, 200:]).all()
    assert (part[100:110, 100:110] == part[100, 100]).all()
    with pytest.raises(ToolError) as err:
        run_tool("pixelate", samples / "photo.png", {"region": {"left": 500, "top": 0, "width": 5, "height": 5}},
                 tmp_path)
    assert err.value.status == 400
    with pytest.raises(ValidationError):
        run_tool("pixelate", samples / "photo.png", {"blockSize": 1}, tmp_path)


def test_vignette_darkens_edges_not_centre(tmp_path):
    src = solid(tmp_path, (200, 200, 200), (200, 100))
    out = arr(run_tool("vignette", src, {"strength": 1, "radius": 30, "softness": 60}, tmp_path).outputs[0])
    assert out[50, 100, 0] == pytest.approx(200, abs=1)
    assert out[0, 0, 0] < 30
    assert out[50, 190, 0] < out[50, 150, 0] < out[50, 100, 0] + 1
    red = arr(run_tool("vignette", src, {"color": "#ff0000", "strength": 1, "radius": 0, "softness": 10},
                       tmp_path).outputs[0])
    assert list(red[0, 0]) == [255, 0, 0]
    moved = arr(run_tool("vignette", src, {"centerX": 0, "centerY": 0, "strength": 1}, tmp_path).outputs[0])
    assert moved[0, 0, 0] > moved[99, 199, 0]
    with pytest.raises(ValidationError):
        run_tool("vignette", src, {"strength": 0}, tmp_path)


def test_adjustments_reject_corrupt_input(samples, tmp_path):
    for tool_id in ("adjust-colors", "sharpening", "replace-color", "color-blindness", "duotone", "pixelate",
                    "vignette"):
        with pytest.raises(ToolError) as err:
            run_tool(tool_id, samples / "corrupt.jpg", {}, tmp_path)
        assert 400 <= err.value.status < 500, tool_id


def test_adjust_colors_sharpness_sharpens_edges(tmp_path):
    src = edge_image(tmp_path)
    out = run_tool("adjust-colors", src, {"sharpness": 80}, tmp_path).outputs[0]
    assert contrast_at_edge(out) > contrast_at_edge(src) * 1.15
    assert arr(out)[20, 5, 0] == pytest.approx(50, abs=3)  # flat areas stay put


def test_vignette_roundness(tmp_path):
    src = solid(tmp_path, (200, 200, 200), (200, 100))
    settings = {"strength": 1, "radius": 20, "softness": 60}
    oval = arr(run_tool("vignette", src, {**settings, "roundness": 0}, tmp_path).outputs[0])
    # an ellipse following the image: the middle of the top edge and of the left edge are equally dark
    assert oval[0, 100, 0] == pytest.approx(oval[50, 0, 0], abs=2)
    round_ = arr(run_tool("vignette", src, {**settings, "roundness": 100}, tmp_path).outputs[0])
    # a circle: the top edge (50 px from the centre) stays lighter than the left edge (100 px away)
    assert round_[0, 100, 0] > round_[50, 0, 0] + 40
