"""Tools whose models have no offline source here (LaMa, DDColor, GFPGAN, BiRefNet) run on tiny ONNX models
built by the test with the real models' input/output names and shapes. They prove the pre/post-processing,
the crop/paste-back and the session lifecycle, not the model quality."""

from __future__ import annotations

import json

import cv2
import numpy as np
import onnx
import pytest
import pyvips
from onnx import TensorProto, helper, numpy_helper
from PIL import Image, ImageDraw
from skimage import data

from actors import catalog, models
from actors.vision import _faces
from protocols.errors import ToolError
from tests.helpers import run_tool

F = TensorProto.FLOAT


def _save(graph, path, opset=13):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def tiny_lama(path):
    """output = (image * (1 - mask) + 0.5 * mask) * 255, like the Carve export (0..255 out)."""
    nodes = [
        helper.make_node("Sub", ["one", "mask"], ["keep"]),
        helper.make_node("Mul", ["image", "keep"], ["kept"]),
        helper.make_node("Mul", ["mask", "half"], ["grey"]),
        helper.make_node("Add", ["kept", "grey"], ["mixed"]),
        helper.make_node("Mul", ["mixed", "scale"], ["output"]),
    ]
    inits = [numpy_helper.from_array(np.array(v, np.float32), n) for n, v in (("one", 1.0), ("half", 0.5), ("scale", 255.0))]
    graph = helper.make_graph(nodes, "lama", [helper.make_tensor_value_info("image", F, [1, 3, 512, 512]),
                                              helper.make_tensor_value_info("mask", F, [1, 1, 512, 512])],
                              [helper.make_tensor_value_info("output", F, [1, 3, 512, 512])], inits)
    _save(graph, path)


def tiny_ddcolor(path, ab=(30.0, 45.0)):
    """A constant a/b prediction: a 1x1 conv with zero weights and the colour as bias."""
    w = numpy_helper.from_array(np.zeros((2, 3, 1, 1), np.float32), "w")
    b = numpy_helper.from_array(np.array(ab, np.float32), "b")
    graph = helper.make_graph([helper.make_node("Conv", ["input", "w", "b"], ["output"])], "ddcolor",
                              [helper.make_tensor_value_info("input", F, [1, 3, 512, 512])],
                              [helper.make_tensor_value_info("output", F, [1, 2, 512, 512])], [w, b])
    _save(graph, path)


def tiny_gfpgan(path):
    """Inverts the face (-1..1 in, -1..1 out), so the paste-back is easy to see."""
    graph = helper.make_graph([helper.make_node("Neg", ["input"], ["output"])], "gfpgan",
                              [helper.make_tensor_value_info("input", F, [1, 3, 512, 512])],
                              [helper.make_tensor_value_info("output", F, [1, 3, 512, 512])])
    _save(graph, path)


def tiny_birefnet(path):
    """Logits = -8 * mean(normalised RGB): dark things are the subject."""
    k = numpy_helper.from_array(np.array(-8.0, np.float32), "k")
    nodes = [helper.make_node("ReduceMean", ["input_image"], ["m"], axes=[1], keepdims=1),
             helper.make_node("Mul", ["m", "k"], ["output_image"])]
    graph = helper.make_graph(nodes, "birefnet", [helper.make_tensor_value_info("input_image", F, [1, 3, 1024, 1024])],
                              [helper.make_tensor_value_info("output_image", F, [1, 1, 1024, 1024])], [k])
    _save(graph, path)


def place(root, bundle_id, files):
    """Lay out a bundle folder as the installer would, with the test's tiny models."""
    folder = root / bundle_id
    folder.mkdir(parents=True, exist_ok=True)
    for dest, build in files.items():
        build(folder / dest)
    (folder / "bundle.json").write_text(json.dumps({"id": bundle_id, "files": list(files), "test": True}))


@pytest.fixture(scope="module")
def tiny_root(bundle, tmp_path_factory):
    """A models folder holding the real face-detection bundle plus the tiny stand-ins."""
    face = bundle("face-detection")
    root = tmp_path_factory.mktemp("tiny-models")
    import shutil

    shutil.copytree(face, root / "face-detection")
    place(root, "object-eraser-colorize", {"lama.onnx": tiny_lama, "ddcolor.onnx": tiny_ddcolor})
    place(root, "photo-restoration", {"gfpgan.onnx": tiny_gfpgan})
    place(root, "background-removal-hq", {"birefnet.onnx": tiny_birefnet})
    return root


@pytest.fixture()
def tiny(tiny_root, models_root):
    models.configure(tiny_root)
    yield tiny_root
    models.configure(models_root)


def pixels(path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy()


def scene(path):
    img = Image.new("RGB", (300, 200), (20, 60, 200))
    ImageDraw.Draw(img).rectangle((120, 70, 179, 129), fill=(230, 20, 20))
    img.save(path)
    return path


def test_erase_object_fills_only_the_mask(tiny, tmp_path):
    src = scene(tmp_path / "scene.png")
    mask = Image.new("L", (300, 200), 0)
    ImageDraw.Draw(mask).rectangle((115, 65, 184, 134), fill=255)
    mask.save(tmp_path / "mask.png")
    result = run_tool("erase-object", [src, tmp_path / "mask.png"], {}, tmp_path, roles=["file", "mask"])
    out = pixels(result.outputs[0]).astype(int)
    assert np.abs(out[100, 150] - 128).max() <= 3  # the tiny model paints grey where the mask is
    assert tuple(out[10, 10]) == (20, 60, 200) and tuple(out[190, 290]) == (20, 60, 200)  # untouched
    assert result.extra["erasedPixels"] == 70 * 70


def test_erase_object_bad_masks(tiny, tmp_path):
    src = scene(tmp_path / "scene.png")
    Image.new("L", (100, 100), 255).save(tmp_path / "small.png")
    with pytest.raises(ToolError) as info:
        run_tool("erase-object", [src, tmp_path / "small.png"], {}, tmp_path, roles=["file", "mask"])
    assert info.value.status == 400 and "same size" in info.value.message
    Image.new("L", (300, 200), 0).save(tmp_path / "empty.png")
    with pytest.raises(ToolError) as info:
        run_tool("erase-object", [src, tmp_path / "empty.png"], {}, tmp_path, roles=["file", "mask"])
    assert info.value.status == 400


def test_erase_object_without_bundle_is_501(tmp_path, models_root):
    models.configure(tmp_path / "none")
    try:
        src = scene(tmp_path / "scene.png")
        Image.new("L", (300, 200), 255).save(tmp_path / "all.png")
        with pytest.raises(ToolError) as info:
            run_tool("erase-object", [src, tmp_path / "all.png"], {}, tmp_path, roles=["file", "mask"])
        assert info.value.status == 501 and "object-eraser-colorize" in info.value.message
        assert models.missing_for("colorize", None) == ["object-eraser-colorize"]
    finally:
        models.configure(models_root)


@pytest.mark.parametrize("tier", ["fast", "balanced"])
def test_canvas_expand(tiny, tmp_path, tier):
    src = scene(tmp_path / "scene.png")
    result = run_tool("ai-canvas-expand", src, {"extendLeft": 40, "extendBottom": 30, "tier": tier}, tmp_path)
    out = pixels(result.outputs[0]).astype(int)
    assert out.shape[:2] == (230, 340)
    before = np.asarray(Image.open(src)).astype(int)
    assert np.abs(out[:200, 40:] - before).max() <= 2  # the original is untouched
    if tier == "balanced":
        assert np.abs(out[225, 5] - 128).max() <= 6  # new area painted by the (tiny) model
    else:
        assert np.abs(out[225, 5] - (20, 60, 200)).max() < 30  # OpenCV continues the blue


def test_colorize_adds_colour_keeps_lightness(tiny, tmp_path):
    grey = cv2.cvtColor(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    out = pixels(run_tool("colorize", tmp_path / "grey.png", {}, tmp_path).outputs[0])
    lab_in = cv2.cvtColor(grey, cv2.COLOR_RGB2LAB).astype(int)
    lab_out = cv2.cvtColor(out, cv2.COLOR_RGB2LAB).astype(int)
    assert abs(lab_out[..., 0].mean() - lab_in[..., 0].mean()) < 8
    mid = lab_out[200:300, 200:300]
    assert mid[..., 1].mean() > 145 and mid[..., 2].mean() > 150  # a and b pushed towards the tiny model's colour


def test_enhance_faces_pastes_back_on_the_face(tiny, tmp_path):
    Image.fromarray(data.astronaut()).save(tmp_path / "a.png")
    result = run_tool("enhance-faces", tmp_path / "a.png", {"strength": 100}, tmp_path)
    assert result.extra["facesFound"] >= 1
    out, src = pixels(result.outputs[0]).astype(int), data.astronaut().astype(int)
    f = result.extra["faces"][0]
    cx, cy = f["x"] + f["width"] // 2, f["y"] + f["height"] // 2
    assert np.abs(out[cy, cx] - (255 - src[cy, cx])).max() < 25  # inverted by the tiny model at the centre
    assert np.array_equal(out[450:, :100], src[450:, :100])  # far from the face: untouched
    with pytest.raises(ToolError) as info:
        run_tool("enhance-faces", tmp_path / "a.png", {"model": "codeformer"}, tmp_path)
    assert info.value.status == 501


def test_remove_background_birefnet(tiny, tmp_path):
    img = Image.new("RGB", (300, 200), (240, 240, 240))
    ImageDraw.Draw(img).ellipse((100, 50, 200, 150), fill=(20, 20, 30))
    img.save(tmp_path / "dark.png")
    out = pixels(run_tool("remove-background", tmp_path / "dark.png", {"model": "birefnet"}, tmp_path).outputs[0])
    assert out[100, 150, 3] > 240 and out[10, 10, 3] < 15


def test_restore_photo_removes_scratches(tmp_path, models_root):
    models.configure(tmp_path / "no-models")  # default settings need no bundle (OpenCV inpainting)
    try:
        clean = cv2.resize(data.astronaut(), (384, 384))
        damaged = clean.copy()
        cv2.line(damaged, (20, 30), (360, 300), (255, 255, 255), 1)
        cv2.line(damaged, (300, 10), (60, 370), (250, 250, 250), 1)
        Image.fromarray(damaged).save(tmp_path / "old.png")
        result = run_tool("restore-photo", tmp_path / "old.png", {"denoise": False}, tmp_path)
        assert result.extra["scratchPixels"] > 300 and result.extra["steps"] == ["scratches:opencv"]
        out = pixels(result.outputs[0]).astype(int)
        line = np.zeros(clean.shape[:2], np.uint8)
        cv2.line(line, (20, 30), (360, 300), 1, 1)
        on = line > 0
        assert np.abs(out[on] - clean[on]).mean() < np.abs(damaged[on].astype(int) - clean[on]).mean() * 0.5
        with pytest.raises(ToolError) as info:
            run_tool("restore-photo", tmp_path / "old.png", {"colorize": True}, tmp_path)
        assert info.value.status == 501
    finally:
        models.configure(models_root)


def test_upscale_face_enhance_restores_faces_after_upscaling(tiny, bundle, tmp_path):
    """faceEnhance: the upscaled image's faces go through the face model (the tiny one inverts them), the
    rest of the picture is the plain upscale."""
    import shutil

    shutil.copytree(bundle("upscale-enhance"), tiny / "upscale-enhance", dirs_exist_ok=True)
    models.configure(tiny)  # bundle() points the models folder back at the session's
    small = cv2.resize(data.astronaut(), (256, 256), interpolation=cv2.INTER_AREA)
    Image.fromarray(small).save(tmp_path / "small.png")
    settings = {"scale": 2, "model": "realesr-animevideov3"}
    plain = run_tool("upscale", tmp_path / "small.png", settings, tmp_path)
    restored = run_tool("upscale", tmp_path / "small.png", {**settings, "faceEnhance": True}, tmp_path)
    assert "facesFound" not in plain.extra and restored.extra["facesFound"] >= 1
    a, b = pixels(plain.outputs[0]).astype(int), pixels(restored.outputs[0]).astype(int)
    assert a.shape == b.shape == (512, 512, 3)
    face = _faces.detect_faces(a.astype(np.uint8), 0.5)[0]
    cx, cy = face[0] + face[2] // 2, face[1] + face[3] // 2
    # at the face's centre: 80 % of the restored (inverted) face over the upscaled one
    expected = 0.2 * a[cy, cx] + 0.8 * (255 - a[cy, cx])
    assert np.abs(b[cy, cx] - expected).max() < 30
    assert np.array_equal(a[450:, :100], b[450:, :100])  # far from the face: the plain upscale


def test_upscale_face_enhance_without_the_face_model_is_501(bundle, tmp_path, models_root):
    bundle("upscale-enhance")
    Image.new("RGB", (40, 30), (90, 120, 200)).save(tmp_path / "a.png")
    assert "photo-restoration" in models.missing_for("upscale", catalog.load()["upscale"].settings(face_enhance=True))
    assert models.missing_for("upscale", catalog.load()["upscale"].settings()) == []
    with pytest.raises(ToolError) as info:
        run_tool("upscale", tmp_path / "a.png", {"faceEnhance": True}, tmp_path)
    assert info.value.status == 501 and "photo-restoration" in info.value.message
