"""Vision tests: one models folder per test session; package-shipped bundles are installed for real,
once, the first time a test needs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors import models


@pytest.fixture(scope="session")
def models_root(tmp_path_factory) -> Path:
    return models.configure(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def bundle(models_root):
    """bundle("ocr") installs the bundle into the session's models folder (once) and returns its folder."""
    done: dict[str, Path] = {}

    def install(bundle_id: str) -> Path:
        models.configure(models_root)
        if bundle_id not in done:
            if not models.is_installed(bundle_id):
                models.install(bundle_id)
            done[bundle_id] = models.bundle_dir(bundle_id)
        return done[bundle_id]

    return install
