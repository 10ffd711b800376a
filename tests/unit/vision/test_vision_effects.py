"""Vision tools with default settings on real photos (scikit-image's samples): a measured change in the
intended direction."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from tests import realistic as r
from tests.helpers import run_tool

FACE = (177, 66, 95, 95)  # the astronaut's face (x, y, w, h)


def test_image_enhancement_default_lifts_a_dull_dark_photo(tmp_path):
    dull = (data.coffee().astype(np.float32) * 0.45 + 20).astype(np.uint8)  # under-exposed, flat
    Image.fromarray(dull).save(tmp_path / "dull.png")
    out = r.load(run_tool("image-enhancement", tmp_path / "dull.png", {}, tmp_path).outputs[0])
    before, after = r.luma(dull.astype(float)), r.luma(out)
    assert after.mean() > before.mean() * 1.2
    assert after.std() > before.std() * 1.2


def test_noise_removal_default_cleans_a_noisy_photo(tmp_path):
    clean = data.coffee().astype(np.float32)
    noisy = np.clip(clean + np.random.default_rng(3).normal(0, 15, clean.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    out = r.load(run_tool("noise-removal", tmp_path / "noisy.png", {}, tmp_path).outputs[0])
    assert np.abs(out - clean).mean() < np.abs(noisy - clean).mean() * 0.75


def test_blur_faces_default_hides_the_face(bundle, tmp_path):
    bundle("face-detection")
    Image.fromarray(data.astronaut()).save(tmp_path / "astronaut.png")
    out = r.load(run_tool("blur-faces", tmp_path / "astronaut.png", {}, tmp_path).outputs[0]).astype(np.uint8)
    x, y, w, h = FACE
    inner = (slice(y + 20, y + h - 20), slice(x + 20, x + w - 20))

    def sharpness(a):
        return float(cv2.Laplacian(cv2.cvtColor(np.ascontiguousarray(a[..., :3]), cv2.COLOR_RGB2GRAY),
                                   cv2.CV_64F).var())

    assert sharpness(out[inner]) < sharpness(data.astronaut()[inner]) * 0.3


@pytest.mark.timeout(600)
def test_upscale_default_is_larger_and_sharper_than_a_resize(bundle, tmp_path):
    bundle("upscale-enhance")
    small = cv2.resize(data.coffee(), (150, 100), interpolation=cv2.INTER_AREA)
    Image.fromarray(small).save(tmp_path / "small.png")
    out = r.load(run_tool("upscale", tmp_path / "small.png", {}, tmp_path).outputs[0])
    assert out.shape[:2] == (200, 300)
    plain = cv2.resize(small, (300, 200), interpolation=cv2.INTER_CUBIC).astype(float)
    assert r.detail(out) > r.detail(plain) * 1.2


@pytest.fixture(scope="module")
def portrait(tmp_path_factory):
    path = tmp_path_factory.mktemp("portrait") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def test_blur_background_default_blurs_behind_the_subject(bundle, portrait, tmp_path):
    bundle("background-removal")
    src = data.astronaut().astype(float)
    out = r.load(run_tool("blur-background", portrait, {}, tmp_path).outputs[0])
    corner = (slice(0, 120), slice(400, 512))  # the shuttle and sky behind, top right
    x, y, w, h = FACE
    face = (slice(y + 15, y + h - 15), slice(x + 15, x + w - 15))
    assert r.detail(out[corner]) < r.detail(src[corner]) * 0.5
    assert r.detail(out[face]) > r.detail(src[face]) * 0.7  # the subject stays sharp


def test_background_replace_default_puts_the_subject_on_white(bundle, portrait, tmp_path):
    bundle("background-removal")
    out = r.load(run_tool("background-replace", portrait, {}, tmp_path).outputs[0])
    corner = out[0:120, 420:512, :3]
    assert corner.min(axis=-1).mean() > 235 and data.astronaut()[0:120, 420:512].min(axis=-1).mean() < 200
    x, y, w, h = FACE
    face = (slice(y + 20, y + h - 20), slice(x + 20, x + w - 20))
    assert np.abs(out[face][..., :3] - data.astronaut()[face]).mean() < 12


def test_transparency_fixer_default_reduces_a_white_halo(tmp_path):
    size = 200
    yy, xx = np.mgrid[0:size, 0:size]
    alpha = np.clip((70 - np.hypot(xx - 100, yy - 100)) / 6, 0, 1)
    rgb = np.zeros((size, size, 3), np.float32)
    rgb[:] = (220, 20, 20)
    edge = (alpha > 0) & (alpha < 1)
    rgb[edge] = rgb[edge] * alpha[edge, None] + 255 * (1 - alpha[edge, None])  # cut out of a white page
    Image.fromarray(np.dstack([rgb, alpha * 255]).astype(np.uint8), "RGBA").save(tmp_path / "cut.png")
    import pyvips

    out = pyvips.Image.new_from_file(str(run_tool("transparency-fixer", tmp_path / "cut.png", {},
                                                  tmp_path).outputs[0])).numpy().astype(float)
    ring = edge & (alpha > 0.3)
    assert out[..., 1][ring].mean() < rgb[ring][:, 1].mean() * 0.7  # green = whiteness of the halo
    assert out[100, 100, 3] == 255 and out[5, 5, 3] == 0
