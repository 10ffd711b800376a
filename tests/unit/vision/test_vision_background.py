"""Background tools on a figure drawn on a plain background: the alpha separates subject from background."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
import pyvips
from PIL import Image, ImageDraw

from actors import models
from protocols.errors import ToolError
from tests.helpers import run_tool

BG = (235, 235, 230)


def figure(path, size=(400, 300)):
    img = Image.new("RGB", size, BG)
    d = ImageDraw.Draw(img)
    d.ellipse((160, 40, 240, 120), fill=(200, 140, 110))
    d.rounded_rectangle((120, 115, 280, 300), radius=40, fill=(30, 60, 160))
    img.save(path)
    return path


def regions(shape):
    inside = np.zeros(shape, bool)
    inside[150:290, 140:260] = True
    inside[55:105, 175:225] = True
    outside = np.ones(shape, bool)
    outside[30:300, 110:290] = False
    return inside, outside


def pixels(path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy()


@pytest.fixture(scope="module")
def fig(tmp_path_factory):
    return figure(tmp_path_factory.mktemp("bg") / "figure.png")


@pytest.fixture(scope="module")
def removed(bundle, fig, tmp_path_factory):
    """One real remove-background run; its job folder holds the cached mask for /effects."""
    bundle("background-removal")
    root = tmp_path_factory.mktemp("jobs")
    job_id = str(uuid.uuid4())
    result = run_tool("remove-background", fig, {}, root / job_id)
    return root, job_id, result


def test_remove_background_alpha_separates_subject(removed):
    _root, _job, result = removed
    out = pixels(result.outputs[0])
    assert out.shape == (300, 400, 4)
    inside, outside = regions(out.shape[:2])
    assert out[..., 3][inside].min() > 230
    assert out[..., 3][outside].max() < 25
    # the subject's colours are kept
    assert np.abs(out[200, 200, :3].astype(int) - (30, 60, 160)).max() < 10
    assert 0.2 < result.extra["subjectCoverage"] < 0.5
    # where nothing shows (alpha 0) no colour of the old background is kept in the file
    clear = out[..., 3] == 0
    assert clear.sum() > 1000 and not out[..., :3][clear].any()


def test_effects_cut_out_matches_the_job_exactly(removed):
    """The cache keeps the mask at the model's size and the upload; /effects scales and decodes them again
    exactly as the job did."""
    root, job_id, result = removed
    again = run_tool("remove-background/effects", [], {"jobId": job_id}, root / str(uuid.uuid4()))
    assert np.array_equal(pixels(again.outputs[0]), pixels(result.outputs[0]))


@pytest.mark.parametrize("settings, check", [
    ({"backgroundType": "color", "backgroundColor": "#ff0000"}, lambda px: tuple(px[5, 5][:3]) == (255, 0, 0)),
    ({"backgroundType": "gradient", "gradientColor1": "#000000", "gradientColor2": "#ffffff", "gradientAngle": 0},
     lambda px: px[5, 2][0] < 20 and px[5, 397][0] > 235),
    ({"backgroundType": "blur", "blurIntensity": 80}, lambda px: abs(int(px[5, 5][0]) - BG[0]) < 6),
    ({"shadowEnabled": True, "shadowOpacity": 80}, lambda px: px.shape[2] == 4 and px[200, 284, 3] > 40 and px[200, 284, 0] < 30),
])
def test_effects_reuse_the_cached_mask(removed, settings, check):
    root, job_id, _ = removed
    loads = dict(models.LOAD_COUNTS)
    result = run_tool("remove-background/effects", [], {"jobId": job_id, **settings}, root / str(uuid.uuid4()))
    px = pixels(result.outputs[0])
    assert check(px), px[5, 5]
    inside, _outside = regions(px.shape[:2])
    assert np.abs(px[200, 200, :3].astype(int) - (30, 60, 160)).max() < 12  # subject unchanged
    assert loads == models.LOAD_COUNTS  # no model was (re)loaded


def test_effects_unknown_job_is_404(removed):
    root, _job, _ = removed
    with pytest.raises(ToolError) as info:
        run_tool("remove-background/effects", [], {"jobId": str(uuid.uuid4())}, root / str(uuid.uuid4()))
    assert info.value.status == 404
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run_tool("remove-background/effects", [], {"jobId": "../../etc"}, root / "x")


def test_remove_background_onto_image(bundle, fig, tmp_path):
    bundle("background-removal")
    Image.new("RGB", (50, 50), (0, 200, 0)).save(tmp_path / "green.png")
    result = run_tool("remove-background", [fig, tmp_path / "green.png"], {"backgroundType": "image"}, tmp_path,
                      roles=["file", "background"])
    px = pixels(result.outputs[0])
    assert tuple(px[5, 5][:3]) == (0, 200, 0)
    assert np.abs(px[200, 200, :3].astype(int) - (30, 60, 160)).max() < 12


def test_blur_background_keeps_subject_sharp(bundle, tmp_path):
    bundle("background-removal")
    # a striped background: blurring it flattens the stripes; the subject stays crisp
    img = Image.new("RGB", (400, 300), BG)
    d = ImageDraw.Draw(img)
    for x in range(0, 400, 8):
        d.rectangle((x, 0, x + 3, 300), fill=(120, 120, 120))
    d.ellipse((160, 40, 240, 120), fill=(200, 140, 110))
    d.rounded_rectangle((120, 115, 280, 300), radius=40, fill=(30, 60, 160))
    img.save(tmp_path / "striped.png")
    before = np.asarray(img).astype(int)
    px = pixels(run_tool("blur-background", tmp_path / "striped.png", {"intensity": 60}, tmp_path).outputs[0])
    assert px.shape == (300, 400, 3)
    assert before[10:60, 10:90].std() > 40 and px[10:60, 10:90].astype(int).std() < 15
    assert np.abs(px[200, 200].astype(int) - (30, 60, 160)).max() < 10


def test_background_replace_color(bundle, fig, tmp_path):
    bundle("background-removal")
    px = pixels(run_tool("background-replace", fig, {"color": "#00ff00", "format": "webp"}, tmp_path).outputs[0])
    assert px.shape[:2] == (300, 400)
    assert px[5, 5][1] > 240 and px[5, 5][0] < 20
    assert np.abs(px[200, 200, :3].astype(int) - (30, 60, 160)).max() < 14


def test_transparency_fixer_cleans_white_fringe(tmp_path):
    # a red disc cut out of a white background: its soft edge still carries white
    size = 200
    yy, xx = np.mgrid[0:size, 0:size]
    dist = np.hypot(xx - 100, yy - 100)
    alpha = np.clip((70 - dist) / 6, 0, 1)
    rgb = np.zeros((size, size, 3), np.float32)
    rgb[:] = (220, 20, 20)
    edge = (alpha > 0) & (alpha < 1)
    rgb[edge] = rgb[edge] * alpha[edge, None] + 255 * (1 - alpha[edge, None])  # white halo
    Image.fromarray(np.dstack([rgb, alpha * 255]).astype(np.uint8), "RGBA").save(tmp_path / "cut.png")
    result = run_tool("transparency-fixer", tmp_path / "cut.png", {"defringe": 100}, tmp_path)
    px = pixels(result.outputs[0]).astype(int)
    ring = edge & (alpha > 0.3)
    before_white = rgb[ring][:, 1].mean()
    after_white = px[..., 1][ring].mean()
    assert before_white > 80 and after_white < 40  # green channel = whiteness of the halo
    assert px[100, 100, 3] == 255 and px[5, 5, 3] == 0
    assert result.extra["alphaCreated"] is False


def test_segmentation_needs_its_bundle(tmp_path, models_root, fig):
    models.configure(tmp_path / "no-models")
    try:
        with pytest.raises(ToolError) as info:
            run_tool("blur-background", fig, {}, tmp_path)
        assert info.value.status == 501 and "background-removal" in info.value.message
    finally:
        models.configure(models_root)


def test_background_bad_settings(fig, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run_tool("background-replace", fig, {"color": "red; drop"}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("blur-background", fig, {"intensity": 500}, tmp_path)


def test_a_second_job_does_not_reload_the_model(removed, fig, tmp_path):
    """The ISNet session loaded for the first job serves the next one: no load, one more use."""
    before = next(m for m in models.loaded() if m["model"] == "background-removal/isnet.onnx")
    loads = models.runtime_info()["modelLoads"]
    result = run_tool("remove-background", fig, {}, tmp_path / str(uuid.uuid4()))
    assert result.extra["subjectCoverage"] > 0.1
    after = next(m for m in models.loaded() if m["model"] == "background-removal/isnet.onnx")
    assert models.runtime_info()["modelLoads"] == loads
    assert after["loads"] == before["loads"] and after["loadedAt"] == before["loadedAt"]
    assert after["uses"] == before["uses"] + 1 and after["loadMs"] > 0


def test_cutout_keeps_alpha_and_clears_invisible_colour():
    from actors.vision import segmentation

    rgb = np.random.default_rng(1).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    alpha = np.zeros((40, 60), np.uint8)
    alpha[10:30, 20:40] = 255
    alpha[10:30, 19] = 100  # a soft edge keeps its colour
    out = segmentation.cutout(rgb, alpha)
    assert out.shape == (40, 60, 4) and out.dtype == np.uint8
    assert np.array_equal(out[..., 3], alpha)
    assert np.array_equal(out[10:30, 19:40, :3], rgb[10:30, 19:40])
    assert not out[:10, :, :3].any() and not out[:, :19, :3].any()
