"""The bundle mechanism: real installs from package-shipped models, local-folder installs, checksums,
atomic failure, one install at a time, uninstall, and the 501 a tool gets when its bundle is missing."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from actors.vision import _models
from protocols.errors import ErrorCode, ToolError


def test_ocr_bundle_installs_with_verified_files(bundle):
    folder = bundle("ocr")
    meta = json.loads((folder / "bundle.json").read_text())
    spec = _models.BUNDLES["ocr"]
    assert set(meta["files"]) == {"det.onnx", "rec.onnx", "cls.onnx"}
    for f in spec.artifacts[0].files:
        assert hashlib.sha256((folder / f.dest).read_bytes()).hexdigest() == f.sha256
    assert _models.is_installed("ocr")
    assert _models.disk_usage()["ocr"] >= spec.size


def test_install_from_local_folder_and_uninstall(bundle, tmp_path):
    mirror = tmp_path / "mirror"
    shutil.copytree(bundle("ocr"), mirror / "ocr")
    root = tmp_path / "models"
    meta = _models.install("ocr", root, source=mirror, allow_network=False)
    assert meta["sources"][0].startswith("folder:")
    assert _models.is_installed("ocr", root)
    assert _models.uninstall("ocr", root) is True
    assert not _models.is_installed("ocr", root)
    assert [p.name for p in root.iterdir() if not p.name.startswith(".install")] == []
    assert _models.uninstall("ocr", root) is False


def test_corrupt_source_fails_atomically(bundle, tmp_path):
    mirror = tmp_path / "mirror" / "ocr"
    shutil.copytree(bundle("ocr"), mirror)
    data = bytearray((mirror / "rec.onnx").read_bytes())
    data[1000] ^= 0xFF  # same size, different bytes
    (mirror / "rec.onnx").write_bytes(bytes(data))
    root = tmp_path / "models"
    with pytest.raises(_models.BundleError, match="Checksum mismatch"):
        _models.install("ocr", root, source=mirror.parent, allow_network=False)
    # nothing half-done: no bundle folder, no temp folder
    assert not _models.is_installed("ocr", root)
    assert [p.name for p in root.iterdir() if p.name != ".install.lock"] == []


def test_url_artifact_with_wrong_checksum_leaves_nothing(tmp_path):
    blob = tmp_path / "weights.onnx"
    blob.write_bytes(b"x" * 1000)
    good = hashlib.sha256(blob.read_bytes()).hexdigest()
    _models.register(_models.Bundle("test-url", "Test", "test", (), (
        _models._url(blob.as_uri(), "weights.onnx", 1000, good),)))
    _models.register(_models.Bundle("test-url-bad", "Test", "test", (), (
        _models._url(blob.as_uri(), "weights.onnx", 1000, "0" * 64),)))
    root = tmp_path / "models"
    try:
        _models.install("test-url", root)
        assert (root / "test-url" / "weights.onnx").read_bytes() == blob.read_bytes()
        with pytest.raises(_models.BundleError):
            _models.install("test-url-bad", root)
        assert not (root / "test-url-bad").exists()
        assert sorted(p.name for p in root.iterdir()) == [".install.lock", "test-url"]
    finally:
        _models.BUNDLES.pop("test-url", None)
        _models.BUNDLES.pop("test-url-bad", None)


def test_one_install_at_a_time(tmp_path):
    _models._installing.add("background-removal")
    try:
        with pytest.raises(_models.BundleError) as info:
            _models.install("ocr", tmp_path / "models")
        assert info.value.status == 409
    finally:
        _models._installing.discard("background-removal")


def test_a_reserved_install_says_installing_before_it_starts(bundle, tmp_path):
    """The route reserves the install before it answers 202 (the thread that installs starts later): from the
    reservation on, the bundle is `installing` and other installs are refused; the install itself then runs
    on that reservation and ends it."""
    mirror = tmp_path / "mirror"
    shutil.copytree(bundle("ocr"), mirror / "ocr")
    root = tmp_path / "models"
    _models.reserve("ocr")
    try:
        assert _models.installing() == {"ocr"} and not _models.is_installed("ocr", root)
        with pytest.raises(_models.BundleError) as info:
            _models.reserve("face-detection")
        assert info.value.status == 409
        with pytest.raises(_models.BundleError):  # an unreserved install meanwhile: refused too
            _models.install("face-detection", root)
        _models.install("ocr", root, source=mirror / "ocr", allow_network=False, reserved=True)
        assert _models.is_installed("ocr", root) and _models.installing() == set()
    finally:
        _models.release("ocr")
    # an install that claims a reservation nobody made is refused, and leaves nothing reserved
    with pytest.raises(_models.BundleError):
        _models.install("ocr", root, source=mirror / "ocr", reserved=True)
    assert _models.installing() == set()


def test_unknown_bundle_is_404(tmp_path):
    with pytest.raises(_models.BundleError) as info:
        _models.install("nope", tmp_path)
    assert info.value.status == 404


def test_missing_bundle_is_501_with_name_and_size(tmp_path, models_root):
    _models.configure(tmp_path / "empty-models")
    try:
        with pytest.raises(ToolError) as info:
            _models.require("background-removal")
        err = info.value
        assert err.status == 501 and err.code is ErrorCode.FEATURE_NOT_INSTALLED
        assert "background-removal" in err.message and "MB" in err.message
        assert _models.missing_for("ocr", _settings("ocr", {"quality": "balanced"})) == ["ocr"]
        assert _models.missing_for("ocr", _settings("ocr", {"quality": "fast"})) == []
    finally:
        _models.configure(models_root)


def _settings(tool_id, raw):
    from actors import catalog

    return catalog.load()[tool_id].settings.model_validate(raw)


def test_sessions_load_once_and_are_reused(bundle):
    bundle("ocr")
    first = _models.onnx_session("ocr", "cls.onnx")
    count = _models.LOAD_COUNTS[next(k for k in _models.LOAD_COUNTS if k.startswith("ocr/cls.onnx"))]
    again = _models.onnx_session("ocr", "cls.onnx")
    assert first is again
    assert _models.LOAD_COUNTS[next(k for k in _models.LOAD_COUNTS if k.startswith("ocr/cls.onnx"))] == count
    info = _models.runtime_info()
    assert info["providers"][-1] == "CPUExecutionProvider"
    assert any(m["model"] == "ocr/cls.onnx" for m in info["loadedModels"])
