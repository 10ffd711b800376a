"""CodeFormer for enhance-faces (and restore-photo's face step) on a tiny ONNX model with the published
export's interface: `x` float32 1x3x512x512 (-1..1), `w` float64 (1,) fidelity weight, `y` float32
1x3x512x512 (-1..1). The tiny model computes y = -w * x, so the output shows both that the face went
through the model (inverted) and which fidelity weight was fed (the contrast is scaled by w).
The real weights are a URL bundle that cannot be downloaded here."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
import pyvips
from onnx import TensorProto, helper
from PIL import Image
from skimage import data

from actors import catalog, models
from actors.vision import _restore
from protocols.errors import ToolError
from tests.helpers import Server, run_tool, settings_field, wait_job

CODEFORMER = "face-restoration-codeformer"
GFPGAN = "photo-restoration"


def _save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def tiny_codeformer(path):
    """y = -float(w) * x with CodeFormer's input/output names, shapes and dtypes (w is a double)."""
    nodes = [helper.make_node("Cast", ["w"], ["wf"], to=TensorProto.FLOAT),
             helper.make_node("Neg", ["x"], ["nx"]),
             helper.make_node("Mul", ["nx", "wf"], ["y"])]
    graph = helper.make_graph(nodes, "codeformer",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 512, 512]),
                               helper.make_tensor_value_info("w", TensorProto.DOUBLE, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 512, 512])])
    _save(graph, path)


def tiny_gfpgan(path):
    """GFPGAN's interface (input -> output), inverting the face."""
    graph = helper.make_graph([helper.make_node("Neg", ["input"], ["output"])], "gfpgan",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 512, 512])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, 512, 512])])
    _save(graph, path)


def place(root, bundle_id, dest, build):
    """Lay out a bundle folder as the installer would (bundle.json last), holding the tiny model."""
    folder = root / bundle_id
    folder.mkdir(parents=True, exist_ok=True)
    build(folder / dest)
    (folder / "bundle.json").write_text(json.dumps({"id": bundle_id, "files": [dest], "test": True}))


def expected(src, w):
    """What the tiny CodeFormer makes of a pixel value with fidelity weight w (strength 100)."""
    return 127.5 - w * (src - 127.5)


@pytest.fixture(scope="module")
def roots(bundle, tmp_path_factory):
    """Three model folders, each with the real face-detection bundle: CodeFormer only, GFPGAN only, both."""
    face = bundle("face-detection")
    made = {}
    for name, wanted in (("codeformer", [CODEFORMER]), ("gfpgan", [GFPGAN]), ("both", [CODEFORMER, GFPGAN])):
        root = tmp_path_factory.mktemp(f"cf-{name}")
        shutil.copytree(face, root / "face-detection")
        if CODEFORMER in wanted:
            place(root, CODEFORMER, "codeformer.onnx", tiny_codeformer)
        if GFPGAN in wanted:
            place(root, GFPGAN, "gfpgan.onnx", tiny_gfpgan)
        made[name] = root
    return made


@pytest.fixture()
def use(roots, models_root):
    def configure(name):
        models.configure(roots[name])

    yield configure
    models.configure(models_root)


@pytest.fixture(scope="module")
def portrait(tmp_path_factory):
    path = tmp_path_factory.mktemp("portrait") / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def pixels(path) -> np.ndarray:
    return pyvips.Image.new_from_file(str(path)).numpy()


def settings(tool_id, values):
    return catalog.load()[tool_id].settings.model_validate(values)


def face_centre(result):
    f = result.extra["faces"][0]
    return f["x"] + f["width"] // 2, f["y"] + f["height"] // 2, f


def test_bundle_manifest():
    b = models.BUNDLES[CODEFORMER]
    assert b.tools == ("enhance-faces", "restore-photo") and not b.offline
    (artifact,) = b.artifacts
    assert artifact.kind == "url" and artifact.url.endswith("/codeformer_fp16.onnx")
    f = b.file("codeformer.onnx")
    assert f.sha256 == "9c3ae2ce2de616815815628f966cdef5d9466722434a1be00c0785ec92e2a94f" and not f.exact_size
    assert 150 * 2**20 < b.size < 220 * 2**20
    assert "S-Lab" in b.licence and "non-commercial" in b.licence


def test_codeformer_restores_the_face_only(use, portrait, tmp_path):
    use("codeformer")
    result = run_tool("enhance-faces", portrait, {"model": "codeformer", "strength": 100}, tmp_path)
    assert result.extra["facesFound"] >= 1
    assert result.extra["model"] == "codeformer" and result.extra["fidelity"] == _restore.CODEFORMER_FIDELITY
    out, src = pixels(result.outputs[0]).astype(float), data.astronaut().astype(float)
    assert out.shape == src.shape
    cx, cy, f = face_centre(result)
    # at the face centre: inverted, with the contrast scaled by the fidelity weight fed as `w` (0.7)
    assert np.abs(out[cy, cx] - expected(src[cy, cx], 0.7)).max() < 20
    assert np.abs(out[cy, cx] - (255 - src[cy, cx])).max() > np.abs(out[cy, cx] - expected(src[cy, cx], 0.7)).max()
    box = (slice(f["y"] + f["height"] // 4, f["y"] + 3 * f["height"] // 4),
           slice(f["x"] + f["width"] // 4, f["x"] + 3 * f["width"] // 4))
    assert np.abs(out[box] - src[box]).mean() > 30  # the face changed
    assert np.array_equal(out[450:, :100], src[450:, :100])  # the background did not
    assert np.array_equal(out[:40, 400:], src[:40, 400:])


def test_codeformer_strength_blends(use, portrait, tmp_path):
    use("codeformer")
    full = run_tool("enhance-faces", portrait, {"model": "codeformer", "strength": 100}, tmp_path)
    none = run_tool("enhance-faces", portrait, {"model": "codeformer", "strength": 0}, tmp_path)
    src = data.astronaut().astype(int)
    assert np.abs(pixels(none.outputs[0]).astype(int) - src).max() <= 1  # nothing blended in
    assert np.abs(pixels(full.outputs[0]).astype(int) - src).max() > 100


def test_codeformer_missing_bundle_is_501_naming_it(use, portrait, tmp_path):
    use("gfpgan")
    with pytest.raises(ToolError) as info:
        run_tool("enhance-faces", portrait, {"model": "codeformer"}, tmp_path)
    assert info.value.status == 501 and info.value.code.value == "FEATURE_NOT_INSTALLED"
    assert CODEFORMER in info.value.message and "CodeFormer" in info.value.message
    assert models.missing_for("enhance-faces", settings("enhance-faces", {"model": "codeformer"})) == [CODEFORMER]
    assert models.missing_for("enhance-faces", settings("enhance-faces", {})) == []
    use("codeformer")
    assert models.missing_for("enhance-faces", settings("enhance-faces", {"model": "gfpgan"})) == [GFPGAN]
    assert models.missing_for("enhance-faces", settings("enhance-faces", {"model": "codeformer"})) == []
    with pytest.raises(ToolError) as info:
        run_tool("enhance-faces", portrait, {"model": "gfpgan"}, tmp_path)
    assert info.value.status == 501 and GFPGAN in info.value.message


def test_gfpgan_path_unchanged(use, portrait, tmp_path):
    use("both")
    result = run_tool("enhance-faces", portrait, {"strength": 100}, tmp_path)
    assert result.extra["model"] == "gfpgan" and "fidelity" not in result.extra
    out, src = pixels(result.outputs[0]).astype(int), data.astronaut().astype(int)
    cx, cy, _f = face_centre(result)
    assert np.abs(out[cy, cx] - (255 - src[cy, cx])).max() < 25  # the GFPGAN stand-in: fully inverted
    assert np.array_equal(out[450:, :100], src[450:, :100])


def test_restore_photo_face_step(use, portrait, tmp_path):
    plain = {"faceEnhancement": True, "scratchRemoval": False, "denoise": False}
    use("codeformer")  # only CodeFormer: it restores the faces, with `fidelity` as its weight
    result = run_tool("restore-photo", portrait, {**plain, "fidelity": 0.4}, tmp_path)
    assert result.extra["faceModel"] == "codeformer" and result.extra["facesFound"] >= 1
    out, src = pixels(result.outputs[0]).astype(float), data.astronaut().astype(float)
    faces = run_tool("enhance-faces", portrait, {"model": "codeformer"}, tmp_path)
    cx, cy, _f = face_centre(faces)
    assert np.abs(out[cy, cx] - expected(src[cy, cx], 0.4)).max() < 20
    assert np.array_equal(out[450:, :100], src[450:, :100])
    assert models.missing_for("restore-photo", settings("restore-photo", plain)) == []
    use("both")  # GFPGAN installed: used as before
    result = run_tool("restore-photo", portrait, plain, tmp_path)
    assert result.extra["faceModel"] == "gfpgan"


def test_restore_photo_without_face_models_names_gfpgan(tmp_path, bundle, models_root):
    root = tmp_path / "models"
    shutil.copytree(bundle("face-detection"), root / "face-detection")
    models.configure(root)
    try:
        need = settings("restore-photo", {"faceEnhancement": True})
        assert models.missing_for("restore-photo", need) == [GFPGAN]
    finally:
        models.configure(models_root)


# ---- over HTTP: listed in the features, 501 before queueing, then a completed job once installed ----
@pytest.fixture(scope="module")
def api(tmp_path_factory, bundle):
    data_dir = tmp_path_factory.mktemp("cf-server") / "data"
    shutil.copytree(bundle("face-detection"), data_dir / "models" / "face-detection")
    srv = Server(data_dir).start()
    try:
        with srv.client() as c:
            yield c, data_dir / "models"
    finally:
        srv.stop()


def post(client, settings):
    img = (data.astronaut()[::2, ::2]).copy()
    buf = pyvips.Image.new_from_array(img).write_to_buffer(".png")
    return client.post("/api/v1/tools/image/enhance-faces", files={"file": ("a.png", buf)},
                       data=settings_field(settings))


def test_api_features_lists_codeformer_then_501_then_runs(api):
    client, models_folder = api
    listed = {b["id"]: b for b in client.get("/api/v1/features").json()["bundles"]}
    cf = listed[CODEFORMER]
    assert cf["status"] == "not_installed" and cf["installed"] is False and cf["offlineSource"] is False
    assert cf["sizeHuman"].endswith("MB") and 150 * 2**20 < cf["size"] < 220 * 2**20
    assert "enhance-faces" in cf["enabledTools"] and "S-Lab" in cf["licence"]
    r = post(client, {"model": "codeformer"})
    assert r.status_code == 501, r.text  # refused before a job exists
    body = r.json()
    assert body["code"] == "FEATURE_NOT_INSTALLED" and CODEFORMER in body["error"] and "MB" in body["error"]
    r = post(client, {"model": "gfpgan"})
    assert r.status_code == 501 and GFPGAN in r.json()["error"]
    r = post(client, {"model": "restoreformer"})
    assert r.status_code == 400 and "error" in r.json()
    place(models_folder, CODEFORMER, "codeformer.onnx", tiny_codeformer)  # as an install would leave it
    listed = {b["id"]: b for b in client.get("/api/v1/features").json()["bundles"]}
    assert listed[CODEFORMER]["status"] == "installed"
    r = post(client, {"model": "codeformer", "strength": 100})
    assert r.status_code in (200, 202), r.text  # an AI image tool: 200 when done within SYNC_WAIT_MS
    frame = wait_job(client, r.json()["jobId"], timeout=300) if r.status_code == 202 else {
        "status": "completed", "result": r.json()}
    assert frame["status"] == "completed", frame
    assert frame["result"]["model"] == "codeformer" and frame["result"]["facesFound"] >= 1
