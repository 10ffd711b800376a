"""Audible effects with default settings on realistic recordings: a measured change in the intended direction."""

from __future__ import annotations

import pytest

from tests import realistic as r
from tests.helpers import run_tool

HISS = (1000, 20000)  # white noise away from the 440 Hz tone
TONE = (420, 460)


@pytest.fixture(scope="module")
def hissy(tmp_path_factory):
    """A 440 Hz tone at −12 dBFS over steady white hiss at −28 dBFS (a noisy field recording)."""
    return r.write_wav(tmp_path_factory.mktemp("hiss") / "hiss.wav", r.tone_with_hiss(noise_dbfs=-28))


@pytest.mark.parametrize(("strength", "at_least_db"), [(None, 10), ("light", 5), ("medium", 10), ("strong", 20)])
def test_noise_reduction_lowers_steady_hiss_and_keeps_the_tone(hissy, tmp_path, strength, at_least_db):
    src = r.read_audio(hissy)
    settings = {} if strength is None else {"strength": strength}
    result = run_tool("noise-reduction", hissy, settings, tmp_path)
    out = r.read_audio(result.outputs[0])
    lowered = r.band_level_db(src, *HISS) - r.band_level_db(out, *HISS)
    assert lowered >= at_least_db, f"hiss lowered by {lowered:.1f} dB"
    assert abs(r.band_level_db(out, *TONE) - r.band_level_db(src, *TONE)) < 1.0
    assert result.extra["noiseFloorDb"] == pytest.approx(-28, abs=1.5)


def test_noise_reduction_measures_a_quiet_floor_too(tmp_path):
    quiet = r.write_wav(tmp_path / "quiet.wav", r.tone_with_hiss(noise_dbfs=-50))
    result = run_tool("noise-reduction", quiet, {"strength": "strong"}, tmp_path)
    src, out = r.read_audio(quiet), r.read_audio(result.outputs[0])
    assert result.extra["noiseFloorDb"] == pytest.approx(-50, abs=1.5)
    assert r.band_level_db(src, *HISS) - r.band_level_db(out, *HISS) >= 10
