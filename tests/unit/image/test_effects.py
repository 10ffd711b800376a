"""Visible effects with default settings on a realistic photo: a measured change in the intended direction.

A tool whose purpose is a visible change and that returns its input unchanged by default is a defect even
when it "succeeds"; each test here runs a tool with `{}` (or only its required settings) on a photo-like
scene and measures the change it exists to make.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import realistic as r
from tests.helpers import run_tool


@pytest.fixture(scope="module")
def soft(tmp_path_factory):
    return r.soft_photo(tmp_path_factory.mktemp("soft") / "soft.jpg", blur=1.5)


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return r.photo(tmp_path_factory.mktemp("photo") / "photo.jpg")


def test_sharpening_defaults_sharpen_a_soft_photo(soft, tmp_path):
    out = run_tool("sharpening", soft, {}, tmp_path).outputs[0]
    assert r.detail(out) > r.detail(soft) * 2.1  # m1 0 (flat areas left alone): x1.8; m1 1: x2.3


def test_sharpening_defaults_sharpen_gentle_detail(tmp_path):
    """Low-contrast texture (skin, sky, foliage out of focus): every local difference is under the adaptive
    method's flat/jaggy threshold, which with a flat-area slope of 0 was left exactly as it was."""
    rng = np.random.default_rng(4)
    y, x = np.mgrid[0:240, 0:320].astype(float)
    base = np.stack([150 + 30 * x / 320, 120 + 20 * y / 240, 100 + 0 * x], axis=-1)
    texture = base + rng.normal(0, 3, (240, 320, 1))
    path = tmp_path / "gentle.png"
    r.to_vips(np.clip(texture, 0, 255).astype(np.uint8)).gaussblur(1.0).cast("uchar").pngsave(str(path))
    out = run_tool("sharpening", path, {}, tmp_path).outputs[0]
    assert r.detail(out) > r.detail(path) * 1.3


def rg_spread(a: np.ndarray) -> float:
    """How far apart reds and greens are: the spread of the red-green opponent channel."""
    return float((a[..., 0] - a[..., 1]).std())


def test_color_blindness_default_loses_red_green_contrast(photo, tmp_path):
    out = r.load(run_tool("color-blindness", photo, {}, tmp_path).outputs[0])
    assert rg_spread(out) < rg_spread(r.load(photo)) * 0.8


def test_duotone_default_maps_every_pixel_between_its_two_colours(photo, tmp_path):
    out = r.load(run_tool("duotone", photo, {}, tmp_path).outputs[0])[..., :3]
    shadow, highlight = np.array([0x1e, 0x3a, 0x8a], float), np.array([0xfb, 0xbf, 0x24], float)

    def off_line(a):  # distance of each pixel from the segment shadow..highlight
        axis = highlight - shadow
        t = np.clip(((a - shadow) @ axis) / (axis @ axis), 0, 1)
        return np.linalg.norm(a - (shadow + t[..., None] * axis), axis=-1).mean()

    assert off_line(out) < 8 and off_line(r.load(photo)) > 40


def test_pixelate_default_makes_blocks(photo, tmp_path):
    def within_blocks(a, size=10):  # mean spread of the luma inside each 10×10 block
        y = r.luma(a)
        h, w = y.shape[0] // size * size, y.shape[1] // size * size
        return float(y[:h, :w].reshape(h // size, size, w // size, size).std(axis=(1, 3)).mean())

    out = r.load(run_tool("pixelate", photo, {}, tmp_path).outputs[0])
    assert within_blocks(out) < within_blocks(r.load(photo)) * 0.25  # what is left is JPEG ringing


def test_vignette_default_darkens_the_corners(photo, tmp_path):
    def corner_to_centre(a):
        y = r.luma(a)
        h, w = y.shape
        corners = np.concatenate([y[:h // 8, :w // 8].ravel(), y[:h // 8, -w // 8:].ravel(),
                                  y[-h // 8:, :w // 8].ravel(), y[-h // 8:, -w // 8:].ravel()])
        return corners.mean() / y[3 * h // 8: 5 * h // 8, 3 * w // 8: 5 * w // 8].mean()

    out = r.load(run_tool("vignette", photo, {}, tmp_path).outputs[0])
    assert corner_to_centre(out) < corner_to_centre(r.load(photo)) * 0.75


def test_replace_color_default_turns_white_black(photo, tmp_path):
    src = r.load(photo)
    out = r.load(run_tool("replace-color", photo, {}, tmp_path).outputs[0])
    white = (src.min(axis=-1) > 225)
    assert white.mean() > 0.005  # the cup's rim and highlights
    assert out[white].max(axis=-1).mean() < 40 and (out.min(axis=-1) > 225).mean() < white.mean() * 0.1


def test_border_default_frames_the_photo(photo, tmp_path):
    out = r.load(run_tool("border", photo, {}, tmp_path).outputs[0])
    assert out.shape[:2] == (400 + 40, 600 + 40)
    frame = np.concatenate([out[:16].reshape(-1, out.shape[2]), out[-16:].reshape(-1, out.shape[2])])
    assert frame[:, :3].mean() < 2 and frame[:, :3].max() < 40  # a black frame, 20 px (JPEG rings a little)


def test_circle_crop_default_clears_the_corners(photo, tmp_path):
    import pyvips

    out = pyvips.Image.new_from_file(str(run_tool("circle-crop", photo, {}, tmp_path).outputs[0]))
    assert (out.width, out.height) == (400, 400) and out.hasalpha()
    assert out.getpoint(3, 3)[3] == 0 and out.getpoint(200, 200)[3] == 255


def test_image_pad_default_makes_it_square(photo, tmp_path):
    out = r.load(run_tool("image-pad", photo, {}, tmp_path).outputs[0])
    assert out.shape[:2] == (600, 600)
    assert out[:90, :, :3].min() > 240 and out[-90:, :, :3].min() > 240  # white bands above and below


@pytest.mark.parametrize("tool_id", ["watermark-text", "text-overlay"])
def test_text_tools_draw_with_only_the_text_given(photo, tmp_path, tool_id):
    src = r.load(photo)
    out = r.load(run_tool(tool_id, photo, {"text": "© Lutra 2025"}, tmp_path).outputs[0])
    changed = np.abs(out[..., :3] - src[..., :3]).max(axis=-1) > 40
    assert 0.002 < changed.mean() < 0.3  # the text, and not the whole photo


@pytest.mark.parametrize("tool_id", ["compress", "optimize-for-web"])
def test_size_tools_default_make_a_camera_jpeg_smaller(tmp_path, tool_id):
    src = r.to_vips(r.photo_array("coffee"))
    path = tmp_path / "camera.jpg"
    src.jpegsave(str(path), Q=98)
    out = run_tool(tool_id, path, {}, tmp_path).outputs[0]
    assert out.stat().st_size < path.stat().st_size * 0.7
    assert np.abs(r.load(out)[..., :3] - r.load(path)[..., :3]).mean() < 4  # and still looks the same
