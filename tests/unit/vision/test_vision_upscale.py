"""Upscale doubles / quadruples the dimensions with Real-ESRGAN and looks like the input, only bigger."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import pyvips
from PIL import Image
from skimage import data

from protocols.errors import ToolError
from protocols.tools import Limits
from tests.helpers import run_tool


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("up") / "small.png"
    Image.fromarray(cv2.resize(data.astronaut(), (48, 40), interpolation=cv2.INTER_AREA)).save(path)
    return path


@pytest.mark.parametrize("scale, model", [(2, "realesrgan-x4plus"), (4, "realesrgan-x4plus"),
                                          (2, "realesr-animevideov3")])
def test_upscale_dimensions_and_content(bundle, small, tmp_path, scale, model):
    bundle("upscale-enhance")
    result = run_tool("upscale", small, {"scale": scale, "model": model}, tmp_path)
    out = pyvips.Image.new_from_file(str(result.outputs[0])).numpy()
    assert out.shape[:2] == (40 * scale, 48 * scale)
    src = np.asarray(Image.open(small))
    back = cv2.resize(out, (48, 40), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(back - src).mean() < 12  # the same picture, not noise


def test_upscale_limits_and_settings(bundle, small, tmp_path):
    bundle("upscale-enhance")
    with pytest.raises(ToolError) as info:
        run_tool("upscale", small, {"scale": 4}, tmp_path, limits=Limits(max_megapixels=0.01))
    assert info.value.status == 413
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run_tool("upscale", small, {"scale": 3}, tmp_path)
