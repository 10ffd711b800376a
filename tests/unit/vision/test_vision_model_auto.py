"""`model: "auto"` (the peer's value) means the best model whose bundle is installed."""

from __future__ import annotations

import pytest

from actors import catalog
from actors import models as _models
from actors.vision import _restore, segmentation


@pytest.fixture()
def models_at(tmp_path, models_root):
    """A fresh models folder in which fake_install(bundle) marks a bundle installed (its files present)."""
    _models.configure(tmp_path / "models")

    def fake_install(bundle_id: str) -> None:
        folder = _models.bundle_dir(bundle_id)
        for f in _models.get_bundle(bundle_id).installed_files():
            (folder / f.dest).parent.mkdir(parents=True, exist_ok=True)
            (folder / f.dest).write_bytes(b"")
        (folder / "bundle.json").write_text("{}")
        assert _models.is_installed(bundle_id)

    yield fake_install
    _models.configure(models_root)


def settings(tool_id: str, **values):
    return catalog.load()[tool_id].settings.model_validate(values)


def test_remove_background_auto(models_at):
    assert settings("remove-background", model="auto").model == "isnet"  # nothing installed: the default
    models_at(segmentation.BUNDLE)
    assert settings("remove-background", model="auto").model == "isnet"
    models_at(segmentation.HQ_BUNDLE)
    assert settings("remove-background", model="auto").model == "birefnet"
    assert settings("remove-background", model="isnet").model == "isnet"  # a named model stays


def test_enhance_faces_auto(models_at):
    assert settings("enhance-faces", model="auto").model == "gfpgan"
    models_at(_restore.face_bundle("codeformer"))
    assert settings("enhance-faces", model="auto").model == "codeformer"
    missing = _models.missing_for("enhance-faces", settings("enhance-faces", model="auto"))
    assert _restore.face_bundle("gfpgan") not in missing and _restore.face_bundle("codeformer") not in missing


def test_upscale_and_colorize_auto(models_at):
    assert settings("upscale", model="auto").model == "realesrgan-x4plus"
    assert settings("colorize", model="auto").model == "ddcolor"


def test_auto_is_documented():
    schema = catalog.load()["remove-background"].settings.model_json_schema(by_alias=True)
    assert "auto" in schema["properties"]["model"]["enum"]
    assert "auto" in schema["properties"]["model"]["description"]
