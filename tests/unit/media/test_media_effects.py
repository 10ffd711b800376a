"""Audible effects with default settings on realistic recordings: a measured change in the intended direction."""

from __future__ import annotations

import numpy as np
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


# ---- the other audible and visible media tools, each with its default settings --------------------------
def level_db(samples) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(samples))) + 1e-12))


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    """A sentence spoken (espeak-ng) with a 1.5 s pause of quiet room tone in the middle, at 48 kHz."""
    import subprocess

    folder = tmp_path_factory.mktemp("speech")
    subprocess.run(["espeak-ng", "-w", str(folder / "raw.wav"), "-s", "160", "The otter dives for fish."],
                   check=True, timeout=60)
    said = r.read_audio(folder / "raw.wav") * 0.5
    room = np.random.default_rng(2).normal(0, 10 ** (-70 / 20), int(1.5 * r.RATE))
    return r.write_wav(folder / "speech.wav", np.concatenate([said, room, said]))


def test_volume_adjust_default_is_louder(speech, tmp_path):
    out = r.read_audio(run_tool("volume-adjust", speech, {}, tmp_path).outputs[0])
    assert level_db(out) - level_db(r.read_audio(speech)) == pytest.approx(6, abs=0.7)


def test_fade_audio_default_fades_both_ends(hissy, tmp_path):
    src = r.read_audio(hissy)
    out = r.read_audio(run_tool("fade-audio", hissy, {}, tmp_path).outputs[0])
    quarter = r.RATE // 4
    assert level_db(out[:quarter // 4]) < level_db(src[:quarter // 4]) - 20  # first 60 ms: almost silent
    assert level_db(out[-quarter // 4:]) < level_db(src[-quarter // 4:]) - 20
    middle = slice(2 * r.RATE - quarter, 2 * r.RATE + quarter)
    assert level_db(out[middle]) == pytest.approx(level_db(src[middle]), abs=0.5)


def test_pitch_shift_default_raises_the_pitch(hissy, tmp_path):
    out = r.read_audio(run_tool("pitch-shift", hissy, {}, tmp_path).outputs[0])
    up = 440 * 2 ** (2 / 12)  # two semitones: 493.9 Hz
    assert r.band_level_db(out, up - 10, up + 10) > r.band_level_db(out, 430, 450) + 15
    assert out.size == pytest.approx(r.read_audio(hissy).size, rel=0.02)


def test_audio_speed_default_is_faster_at_the_same_pitch(hissy, tmp_path):
    out = r.read_audio(run_tool("audio-speed", hissy, {}, tmp_path).outputs[0])
    assert out.size / r.RATE == pytest.approx(4.0 / 1.5, abs=0.05)
    assert r.band_level_db(out, 430, 450) > r.band_level_db(out, 650, 670) + 15


def test_silence_removal_default_cuts_the_pause(speech, tmp_path):
    src = r.read_audio(speech)
    out = r.read_audio(run_tool("silence-removal", speech, {}, tmp_path).outputs[0])
    assert src.size / r.RATE - out.size / r.RATE > 1.0  # most of the 1.5 s pause is gone
    assert level_db(out) > level_db(src)  # what is left is the speech


def test_stabilize_video_default_steadies_a_handheld_shot(tmp_path):
    """A real photo filmed by a shaking hand: the crop window jitters a few pixels every frame."""
    from tests.unit.media.mediautil import ffmpeg, frames_gray

    still = r.photo(tmp_path / "scene.jpg")
    shaky = tmp_path / "handheld.mp4"
    ffmpeg("-loop", "1", "-i", str(still), "-t", "2", "-r", "25", "-vf",
           "crop=480:320:'60+14*sin(n*1.9)+6*sin(n*5.1)':'40+10*sin(n*2.7+1)',format=yuv420p",
           "-c:v", "libx264", "-preset", "ultrafast", str(shaky))
    out = run_tool("stabilize-video", shaky, {}, tmp_path).outputs[0]

    def shake(path):
        frames = frames_gray(path, (240, 160))[:, 30:130, 40:200]  # the middle, away from filled borders
        return float(np.abs(np.diff(frames, axis=0)).mean())

    assert shake(out) < shake(shaky) * 0.7


def test_noise_reduction_default_quiets_the_hiss_under_speech(speech, tmp_path):
    """Speech recorded over steady hiss (−40 dBFS): the pause between the sentences gets quieter by most
    of the default 16 dB, the speech keeps its level."""
    clean = r.read_audio(speech)
    hiss = np.random.default_rng(9).normal(0, 10 ** (-40 / 20), clean.size)
    noisy = r.write_wav(tmp_path / "noisy-speech.wav", clean + hiss)
    src, out = r.read_audio(noisy), r.read_audio(run_tool("noise-reduction", noisy, {}, tmp_path).outputs[0])
    said = clean.size // 2 - int(0.75 * r.RATE)  # the pause is the middle 1.5 s
    pause = slice(said + r.RATE // 4, said + int(1.25 * r.RATE))
    assert level_db(src[pause]) - level_db(out[pause]) >= 10
    assert abs(level_db(out[:said]) - level_db(src[:said])) < 2


def test_noise_floor_measurement():
    from actors.media._noisefloor import SILENT_DB, floor_db

    for level in (-28, -45, -65):
        assert floor_db(r.tone_with_hiss(noise_dbfs=level)) == pytest.approx(level, abs=1)
    # loud bursts half of the time (speech, music) barely move the floor under them
    steady = r.tone_with_hiss(noise_dbfs=-45)
    bursts = (np.sin(np.arange(steady.size) / r.RATE * 2 * np.pi * 0.7) > 0) * \
        np.random.default_rng(1).normal(0, 0.1, steady.size)
    assert floor_db(steady + bursts) == pytest.approx(-45, abs=5)
    assert floor_db(np.zeros(r.RATE * 2)) == SILENT_DB and floor_db(np.zeros(100)) == SILENT_DB
