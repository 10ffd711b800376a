"""Face tools on a real portrait (scikit-image's astronaut), plus smart-crop, enhancement, denoise and
seam carving on generated images."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import pyvips
from PIL import Image, ImageDraw
from skimage import data

from protocols.errors import ToolError
from tests.helpers import run_tool

FACE = (177, 66, 95, 95)  # where the astronaut's face is (x, y, w, h)


def pixels(path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy()


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    path = tmp_path_factory.mktemp("faces") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def sharpness(a: np.ndarray) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(a[..., :3], cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def test_blur_faces_blurs_the_face_and_only_the_face(bundle, astronaut, tmp_path):
    bundle("face-detection")
    result = run_tool("blur-faces", astronaut, {"blurRadius": 60}, tmp_path)
    assert result.extra["facesFound"] >= 1
    box = result.extra["faces"][0]
    assert abs(box["x"] - FACE[0]) < 25 and abs(box["y"] - FACE[1]) < 25
    before, after = data.astronaut(), pixels(result.outputs[0])
    x, y, w, h = FACE
    face_before, face_after = before[y + 20: y + h - 20, x + 20: x + w - 20], after[y + 20: y + h - 20, x + 20: x + w - 20]
    assert sharpness(face_after) < sharpness(face_before) * 0.2
    outside = np.ones(before.shape[:2], bool)
    outside[max(0, y - 40): y + h + 40, max(0, x - 40): x + w + 40] = False
    assert np.array_equal(before[outside], after[outside])


def test_blur_faces_pixelate_and_no_face(bundle, tmp_path):
    bundle("face-detection")
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.png")
    result = run_tool("blur-faces", tmp_path / "coffee.png", {"method": "pixelate"}, tmp_path)
    assert result.extra["facesFound"] == 0
    assert np.array_equal(pixels(result.outputs[0]), data.coffee())


def test_red_eye_removal(bundle, tmp_path):
    bundle("face-detection")
    img = data.astronaut().copy()
    pupils = [(201, 100), (247, 103)]
    for cx, cy in pupils:
        cv2.circle(img, (cx, cy), 5, (230, 30, 35), -1)
    Image.fromarray(img).save(tmp_path / "redeye.png")
    result = run_tool("red-eye-removal", tmp_path / "redeye.png", {}, tmp_path)
    assert result.extra["eyesFound"] >= 1 and result.extra["pixelsCorrected"] > 20
    out = pixels(result.outputs[0]).astype(int)
    fixed = [out[cy, cx] for cx, cy in pupils]
    assert any(p[0] < p[1] + 60 for p in fixed), fixed
    # the red stripes of the flag (outside the eyes) keep their colour
    mask = np.ones(img.shape[:2], bool)
    mask[70:140, 170:280] = False
    assert np.array_equal(out[mask], img[mask].astype(int))


def test_smart_crop_face_head_shoulders(bundle, astronaut, tmp_path):
    bundle("face-detection")
    result = run_tool("smart-crop", astronaut, {"mode": "face", "width": 200, "height": 250}, tmp_path)
    crop = result.extra["crop"]
    x, y, w, h = FACE
    assert crop["x"] <= x and crop["y"] <= y and crop["x"] + crop["width"] >= x + w and crop["y"] + crop["height"] >= y + h
    assert pixels(result.outputs[0]).shape[:2] == (250, 200)


def test_smart_crop_trim_and_subject(tmp_path):
    img = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(img).rectangle((200, 50, 259, 139), fill=(200, 30, 30))
    img.save(tmp_path / "box.png")
    trimmed = run_tool("smart-crop", tmp_path / "box.png", {"mode": "trim"}, tmp_path)
    assert trimmed.extra["crop"] == {"x": 200, "y": 50, "width": 60, "height": 90}
    padded = run_tool("smart-crop", tmp_path / "box.png", {"mode": "trim", "padding": 5, "padToSquare": True,
                                                          "padColor": "#0000ff"}, tmp_path)
    px = pixels(padded.outputs[0])
    assert px.shape[:2] == (100, 100) and tuple(px[50, 2]) == (0, 0, 255)
    for strategy in ("attention", "entropy"):
        sub = run_tool("smart-crop", tmp_path / "box.png", {"width": 100, "height": 100, "strategy": strategy}, tmp_path)
        c = sub.extra["crop"]
        assert c["x"] <= 200 and c["x"] + c["width"] >= 259 and c["width"] == c["height"] == 200
        assert pixels(sub.outputs[0]).shape[:2] == (100, 100)


def test_image_enhancement_brightens_dark_photo(tmp_path):
    dark = (data.astronaut().astype(np.float32) * 0.25).astype(np.uint8)
    Image.fromarray(dark).save(tmp_path / "dark.png")
    analysis = run_tool("image-enhancement/analyze", tmp_path / "dark.png", {}, tmp_path)
    assert analysis.extra["metrics"]["brightness"] < 0.3
    assert "exposure" in [r["mode"] for r in analysis.extra["recommendations"]]
    result = run_tool("image-enhancement", tmp_path / "dark.png", {"strength": 80}, tmp_path)
    assert "exposure" in result.extra["applied"]
    out = pixels(result.outputs[0])
    assert out.mean() > dark.mean() * 1.6 and out.shape == dark.shape
    sharp = run_tool("image-enhancement", tmp_path / "dark.png", {"mode": "sharpness"}, tmp_path)
    assert sharp.extra["applied"] == ["sharpness"]


@pytest.mark.parametrize("tier", ["quick", "balanced", "quality", "maximum"])
def test_noise_removal_reduces_noise(tmp_path, tier):
    clean = cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(1)
    noisy = np.clip(clean.astype(np.float32) + rng.normal(0, 18, clean.shape), 0, 255).astype(np.uint8)
    Image.fromarray(noisy).save(tmp_path / "noisy.png")
    out = pixels(run_tool("noise-removal", tmp_path / "noisy.png", {"tier": tier, "strength": 60}, tmp_path).outputs[0])
    err_before = np.abs(noisy.astype(float) - clean).mean()
    err_after = np.abs(out.astype(float) - clean).mean()
    assert err_after < err_before * 0.8, (err_before, err_after)


def two_discs(path, w=240, h=120):
    img = Image.new("RGB", (w, h), (250, 250, 250))
    d = ImageDraw.Draw(img)
    d.ellipse((20, 30, 80, 90), fill=(20, 20, 20))
    d.ellipse((160, 30, 220, 90), fill=(20, 20, 20))
    img.save(path)
    return path


def disc_widths(a: np.ndarray) -> list[int]:
    row = (a[..., 0] < 100).any(axis=0).astype(int)  # columns that hold part of a disc
    runs, count = [], 0
    for v in list(row) + [0]:
        if v:
            count += 1
        elif count:
            runs.append(count)
            count = 0
    return runs


def test_content_aware_resize_keeps_objects(tmp_path):
    src = two_discs(tmp_path / "discs.png")
    out = pixels(run_tool("content-aware-resize", src, {"width": 160}, tmp_path).outputs[0])
    assert out.shape[:2] == (120, 160)
    widths = disc_widths(out)
    assert len(widths) == 2 and all(abs(wd - 61) <= 3 for wd in widths), widths  # a plain resize gives ~41
    wider = pixels(run_tool("content-aware-resize", src, {"width": 300, "height": 100}, tmp_path).outputs[0])
    assert wider.shape[:2] == (100, 300)
    assert all(abs(wd - 61) <= 3 for wd in disc_widths(wider)[:2])


def test_content_aware_resize_protects_faces(bundle, astronaut, tmp_path):
    bundle("face-detection")
    result = run_tool("content-aware-resize", astronaut, {"width": 470, "protectFaces": True}, tmp_path)
    assert result.extra["facesProtected"] >= 1 and result.extra["width"] == 470


def test_vision_bad_settings(astronaut, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run_tool("content-aware-resize", astronaut, {}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("noise-removal", astronaut, {"tier": "extreme"}, tmp_path)
    with pytest.raises(ValidationError):
        run_tool("blur-faces", astronaut, {"blurRadius": 0}, tmp_path)
    with pytest.raises(ToolError) as info:
        run_tool("content-aware-resize", astronaut, {"width": 5000}, tmp_path)
    assert info.value.status == 400
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0garbage")
    with pytest.raises(ToolError) as info:
        run_tool("smart-crop", tmp_path / "bad.jpg", {"mode": "trim"}, tmp_path)
    assert info.value.status == 400
