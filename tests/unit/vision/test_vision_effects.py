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
