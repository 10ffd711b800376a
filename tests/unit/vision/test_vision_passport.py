"""Passport photo on a real portrait: the right pixel size at 300 dpi, the head at the country's height,
a plain background, and print sheets; /analyze then /generate reuse the cached analysis."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import pyvips
from PIL import Image
from skimage import data

from actors import models
from actors.vision import _faces
from actors.vision._passport import LAYOUTS, SPECS, mm_to_px
from protocols.errors import ToolError
from tests.helpers import run_tool


@pytest.fixture(scope="module")
def portrait(tmp_path_factory):
    path = tmp_path_factory.mktemp("passport") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


@pytest.fixture(scope="module")
def analysed(bundle, portrait, tmp_path_factory):
    bundle("face-detection")
    bundle("background-removal")
    root = tmp_path_factory.mktemp("jobs")
    job_id = str(uuid.uuid4())
    result = run_tool("passport-photo/analyze", portrait, {"country": "gb"}, root / job_id)
    return root, job_id, result


def pixels(path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy()


def test_specs_cover_37_countries():
    assert len(SPECS) == 37
    assert SPECS["us"].width_mm == 50.8 and SPECS["gb"].height_mm == 45


def test_analyze_finds_face_crown_and_chin(analysed):
    _root, _job, result = analysed
    info = result.extra
    face = info["face"]
    assert abs(face["x"] - 177) < 25 and abs(face["y"] - 66) < 25
    assert info["crownY"] < face["y"] and info["chinY"] > face["y"] + face["height"] * 0.8
    assert info["country"]["code"] == "gb"


def test_generate_us_photo_and_sheet(analysed):
    root, job_id, _ = analysed
    loads = dict(models.LOAD_COUNTS)
    result = run_tool("passport-photo/generate", [], {"jobId": job_id, "country": "us", "printLayout": "4x6"},
                      root / str(uuid.uuid4()))
    assert loads == {k: v for k, v in models.LOAD_COUNTS.items() if k in loads}  # no model reloaded
    photo_path = next(p for p in result.outputs if "_passport_" in p.name)
    sheet_path = next(p for p in result.outputs if "_sheet_" in p.name)
    photo = pyvips.Image.new_from_file(str(photo_path))
    assert (photo.width, photo.height) == (mm_to_px(50.8), mm_to_px(50.8)) == (600, 600)
    assert round(photo.xres * 25.4) == 300
    px = photo.numpy()
    assert px[3, 3].min() > 235 and px[3, -4].min() > 235  # white background in the top corners
    # the head fills the US range (25-35 mm = 295-413 px): the face is found again, centred
    faces = _faces.detect_faces(px, 0.5)
    assert faces, "no face in the passport photo"
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    assert abs((x + w / 2) - 300) < 60 and 150 < w < 420
    sheet = pyvips.Image.new_from_file(str(sheet_path))
    assert (sheet.width, sheet.height) == LAYOUTS["4x6"]
    assert result.extra["copies"] == 6  # 2 x 3 two-inch photos on a 4x6 in sheet


def test_passport_one_shot_gb_with_background(bundle, portrait, tmp_path):
    bundle("face-detection")
    bundle("background-removal")
    result = run_tool("passport-photo", portrait, {"country": "gb", "backgroundColor": "#ddeeff"}, tmp_path)
    img = pixels(result.outputs[0])
    assert img.shape[:2] == (mm_to_px(45), mm_to_px(35))
    assert np.abs(img[3, 3].astype(int) - (0xDD, 0xEE, 0xFF)).max() < 12


def test_passport_errors(bundle, tmp_path, analysed):
    bundle("face-detection")
    bundle("background-removal")
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.png")
    with pytest.raises(ToolError) as info:
        run_tool("passport-photo", tmp_path / "coffee.png", {}, tmp_path)
    assert info.value.status == 400 and "face" in info.value.message
    root, _job, _ = analysed
    with pytest.raises(ToolError) as info:
        run_tool("passport-photo/generate", [], {"jobId": str(uuid.uuid4())}, root / "x")
    assert info.value.status == 404
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run_tool("passport-photo", tmp_path / "coffee.png", {"country": "atlantis"}, tmp_path)
