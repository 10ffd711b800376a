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
    assert r.detail(out) > r.detail(soft) * 1.6


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
