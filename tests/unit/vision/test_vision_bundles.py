"""The bundle mechanism: real installs from package-shipped models, local-folder installs, checksums,
atomic failure, one install at a time, uninstall, and the 501 a tool gets when its bundle is missing."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from actors import models
from actors.models import catalogue, installer
from protocols.errors import ErrorCode, ToolError


def test_ocr_bundle_installs_with_verified_files(bundle):
    folder = bundle("ocr")
    meta = json.loads((folder / "bundle.json").read_text())
    spec = models.BUNDLES["ocr"]
    assert set(meta["files"]) == {"det.onnx", "rec.onnx", "cls.onnx"}
    for f in spec.artifacts[0].files:
        assert hashlib.sha256((folder / f.dest).read_bytes()).hexdigest() == f.sha256
    assert models.is_installed("ocr")
    assert models.disk_usage()["ocr"] >= spec.size


def test_install_from_local_folder_and_uninstall(bundle, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(bundle("ocr"), mirror / "ocr")
    root = tmp_path / "models"
    meta = models.install("ocr", root, source=mirror, allow_network=False)
    assert meta["sources"][0].startswith("folder:")
    assert models.is_installed("ocr", root)
    assert models.uninstall("ocr", root) is True
    assert not models.is_installed("ocr", root)
    assert [p.name for p in root.iterdir() if not p.name.startswith(".install")] == []
    assert models.uninstall("ocr", root) is False


def test_corrupt_source_fails_atomically(bundle, tmp_path):
    mirror = tmp_path / "mirror" / "ocr"
    shutil.copytree(bundle("ocr"), mirror)
    data = bytearray((mirror / "rec.onnx").read_bytes())
    data[1000] ^= 0xFF  # same size, different bytes
    (mirror / "rec.onnx").write_bytes(bytes(data))
    root = tmp_path / "models"
    with pytest.raises(models.BundleError, match="Checksum mismatch"):
        models.install("ocr", root, source=mirror.parent, allow_network=False)
    # nothing half-done: no bundle folder, no temp folder
    assert not models.is_installed("ocr", root)
    assert [p.name for p in root.iterdir() if p.name != ".install.lock"] == []


def test_url_artifact_with_wrong_checksum_leaves_nothing(tmp_path):
    blob = tmp_path / "weights.onnx"
    blob.write_bytes(b"x" * 1000)
    good = hashlib.sha256(blob.read_bytes()).hexdigest()
    models.register(models.Bundle("test-url", "Test", "test", (), (
        catalogue._url(blob.as_uri(), "weights.onnx", 1000, good),)))
    models.register(models.Bundle("test-url-bad", "Test", "test", (), (
        catalogue._url(blob.as_uri(), "weights.onnx", 1000, "0" * 64),)))
    root = tmp_path / "models"
    try:
        models.install("test-url", root)
        assert (root / "test-url" / "weights.onnx").read_bytes() == blob.read_bytes()
        with pytest.raises(models.BundleError):
            models.install("test-url-bad", root)
        assert not (root / "test-url-bad").exists()
        assert sorted(p.name for p in root.iterdir()) == [".install.lock", "test-url"]
    finally:
        models.BUNDLES.pop("test-url", None)
        models.BUNDLES.pop("test-url-bad", None)


def test_one_install_at_a_time(tmp_path):
    installer._installing.add("background-removal")
    try:
        with pytest.raises(models.BundleError) as info:
            models.install("ocr", tmp_path / "models")
        assert info.value.status == 409
    finally:
        installer._installing.discard("background-removal")


def test_a_reserved_install_says_installing_before_it_starts(bundle, tmp_path):
    """The route reserves the install before it answers 202 (the thread that installs starts later): from the
    reservation on, the bundle is `installing` and other installs are refused; the install itself then runs
    on that reservation and ends it."""
    mirror = tmp_path / "mirror"
    shutil.copytree(bundle("ocr"), mirror / "ocr")
    root = tmp_path / "models"
    models.reserve("ocr")
    try:
        assert models.installing() == {"ocr"} and not models.is_installed("ocr", root)
        with pytest.raises(models.BundleError) as info:
            models.reserve("face-detection")
        assert info.value.status == 409
        with pytest.raises(models.BundleError):  # an unreserved install meanwhile: refused too
            models.install("face-detection", root)
        models.install("ocr", root, source=mirror / "ocr", allow_network=False, reserved=True)
        assert models.is_installed("ocr", root) and models.installing() == set()
    finally:
        models.release("ocr")
    # an install that claims a reservation nobody made is refused, and leaves nothing reserved
    with pytest.raises(models.BundleError):
        models.install("ocr", root, source=mirror / "ocr", reserved=True)
    assert models.installing() == set()


def test_unknown_bundle_is_404(tmp_path):
    with pytest.raises(models.BundleError) as info:
        models.install("nope", tmp_path)
    assert info.value.status == 404


def test_missing_bundle_is_501_with_name_and_size(tmp_path, models_root):
    models.configure(tmp_path / "empty-models")
    try:
        with pytest.raises(ToolError) as info:
            models.require("background-removal")
        err = info.value
        assert err.status == 501 and err.code is ErrorCode.FEATURE_NOT_INSTALLED
        assert "background-removal" in err.message and "MB" in err.message
        assert models.missing_for("ocr", _settings("ocr", {"quality": "balanced"})) == ["ocr"]
        assert models.missing_for("ocr", _settings("ocr", {"quality": "fast"})) == []
    finally:
        models.configure(models_root)


def _settings(tool_id, raw):
    from actors import catalog

    return catalog.load()[tool_id].settings.model_validate(raw)


def test_sessions_load_once_and_are_reused(bundle):
    bundle("ocr")
    first = models.onnx_session("ocr", "cls.onnx")
    count = models.LOAD_COUNTS[next(k for k in models.LOAD_COUNTS if k.startswith("ocr/cls.onnx"))]
    again = models.onnx_session("ocr", "cls.onnx")
    assert first is again
    assert models.LOAD_COUNTS[next(k for k in models.LOAD_COUNTS if k.startswith("ocr/cls.onnx"))] == count
    info = models.runtime_info()
    assert info["providers"][-1] == "CPUExecutionProvider"
    assert any(m["model"] == "ocr/cls.onnx" for m in info["loadedModels"])
