"""Media test inputs, generated once per session with ffmpeg (small and short, so the suite stays fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.media import mediautil


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Path:
    return mediautil.build(tmp_path_factory.mktemp("media"))
