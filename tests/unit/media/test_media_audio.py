"""Every audio tool on generated tones, speech and noise, checked by probing and decoding the result."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from protocols.errors import ToolError
from tests.helpers import run_tool
from tests.unit.media.mediautil import audio, dominant_hz, duration, loudness_lufs, pcm, probe, rms, streams

SR = 16000


@pytest.mark.parametrize("fmt, codec", [("mp3", "mp3"), ("wav", "pcm_s16le"), ("ogg", "vorbis"), ("flac", "flac"),
                                        ("m4a", "aac")])
def test_convert_audio(media, tmp_path, fmt, codec):
    out = run_tool("convert-audio", media / "tone.wav", {"format": fmt, "bitrateKbps": 96, "sampleRate": 22050},
                   tmp_path).outputs[0]
    a = audio(out)
    assert out.suffix == f".{fmt}" and a["codec_name"] == codec and int(a["sample_rate"]) == 22050
    assert duration(out) == pytest.approx(2.0, abs=0.08)
    assert dominant_hz(pcm(out)[:, 0]) == pytest.approx(440, rel=0.02)


def test_convert_audio_from_video_and_bitrate(media, tmp_path):
    out = run_tool("convert-audio", media / "clip.mp4", {"format": "mp3", "bitrateKbps": 64, "channels": 1},
                   tmp_path).outputs[0]
    a = audio(out)
    assert streams(out, "video") == [] and int(a["channels"]) == 1
    assert int(a["bit_rate"]) == pytest.approx(64000, rel=0.1)
    with pytest.raises(ValidationError):
        run_tool("convert-audio", media / "tone.wav", {"bitrateKbps": 500}, tmp_path)


def test_trim_audio(media, tmp_path):
    out = run_tool("trim-audio", media / "gap.wav", {"startS": 2.5, "endS": 3.2}, tmp_path).outputs[0]
    assert out.suffix == ".wav" and duration(out) == pytest.approx(0.7, abs=0.01)
    assert dominant_hz(pcm(out)[:, 0]) == pytest.approx(660, rel=0.02)  # the second tone
    with pytest.raises(ValidationError):
        run_tool("trim-audio", media / "gap.wav", {"startS": 3, "endS": 1}, tmp_path)
    with pytest.raises(ToolError, match="past the end"):
        run_tool("trim-audio", media / "gap.wav", {"startS": 30}, tmp_path)


def test_volume_adjust(media, tmp_path):
    src = rms(pcm(media / "tone.wav"))
    quieter = run_tool("volume-adjust", media / "tone.wav", {"gainDb": -12}, tmp_path).outputs[0]
    assert 20 * np.log10(rms(pcm(quieter)) / src) == pytest.approx(-12, abs=0.5)
    louder = run_tool("volume-adjust", media / "ramp.wav", {"gainDb": 3}, tmp_path).outputs[0]
    assert rms(pcm(louder)) > rms(pcm(media / "ramp.wav")) * 1.3
    assert np.abs(pcm(louder)).max() < 0.999  # limited, not clipped


def test_normalize_audio_hits_minus_16(media, tmp_path):
    assert loudness_lufs(media / "speech.wav") < -25
    result = run_tool("normalize-audio", media / "speech.wav", {}, tmp_path)
    out = result.outputs[0]
    assert loudness_lufs(out) == pytest.approx(-16, abs=1)
    assert int(audio(out)["sample_rate"]) == 44100  # not loudnorm's 192 kHz
    custom = run_tool("normalize-audio", media / "speech.wav", {"targetLufs": -23}, tmp_path).outputs[0]
    assert loudness_lufs(custom) == pytest.approx(-23, abs=1)


def test_normalize_silence_is_refused(media, tmp_path):
    from tests.unit.media.mediautil import ffmpeg

    silent = tmp_path / "silent.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono:d=2", str(silent))
    with pytest.raises(ToolError, match="silent"):
        run_tool("normalize-audio", silent, {}, tmp_path)


def test_fade_audio(media, tmp_path):
    out = run_tool("fade-audio", media / "tone.wav", {"fadeInS": 0.5, "fadeOutS": 0.5}, tmp_path).outputs[0]
    samples = pcm(out)[:, 0]
    middle = rms(samples[SR // 2 + 4000: SR + 4000])
    assert rms(samples[:1600]) < middle * 0.3
    assert rms(samples[-1600:]) < middle * 0.3
    assert duration(out) == pytest.approx(2.0, abs=0.02)
    with pytest.raises(ToolError, match="longer than the audio"):
        run_tool("fade-audio", media / "tone.wav", {"fadeInS": 2, "fadeOutS": 2}, tmp_path)


def test_reverse_audio(media, tmp_path):
    out = run_tool("reverse-audio", media / "ramp.wav", {}, tmp_path).outputs[0]
    src, rev = pcm(media / "ramp.wav")[:, 0], pcm(out)[:, 0]
    assert rms(src[:4000]) < rms(src[-4000:])  # rising
    assert rms(rev[:4000]) > 3 * rms(rev[-4000:])  # falling once reversed
    n = min(len(src), len(rev))
    assert np.corrcoef(np.abs(rev[:n]), np.abs(src[:n][::-1]))[0, 1] > 0.9


@pytest.mark.parametrize("factor", [0.5, 2.0, 4.0])
def test_audio_speed_keeps_pitch(media, tmp_path, factor):
    out = run_tool("audio-speed", media / "tone.wav", {"factor": factor}, tmp_path).outputs[0]
    assert duration(out) == pytest.approx(2.0 / factor, abs=0.05)
    assert dominant_hz(pcm(out)[:, 0]) == pytest.approx(440, rel=0.03)


@pytest.mark.parametrize("semitones, expected", [(12, 880), (-12, 220), (7, 440 * 2 ** (7 / 12))])
def test_pitch_shift(media, tmp_path, semitones, expected):
    out = run_tool("pitch-shift", media / "tone.wav", {"semitones": semitones}, tmp_path).outputs[0]
    assert duration(out) == pytest.approx(2.0, abs=0.05)
    assert dominant_hz(pcm(out)[SR // 4: -SR // 4, 0]) == pytest.approx(expected, rel=0.03)


def test_audio_channels(media, tmp_path):
    mono = run_tool("audio-channels", media / "left440_right1000.wav", {"mode": "stereo-to-mono"},
                    tmp_path).outputs[0]
    assert int(audio(mono)["channels"]) == 1
    stereo = run_tool("audio-channels", media / "tone.wav", {"mode": "mono-to-stereo"}, tmp_path).outputs[0]
    assert int(audio(stereo)["channels"]) == 2
    left, right = pcm(stereo, channels=2).T
    assert np.allclose(left, right, atol=1e-3) and rms(left) == pytest.approx(rms(pcm(media / "tone.wav")), rel=0.05)
    swapped = run_tool("audio-channels", media / "left440_right1000.wav", {"mode": "swap"}, tmp_path).outputs[0]
    both = pcm(swapped, channels=2)
    assert dominant_hz(both[:, 0]) == pytest.approx(1000, rel=0.02)
    assert dominant_hz(both[:, 1]) == pytest.approx(440, rel=0.02)
    with pytest.raises(ToolError, match="needs stereo"):
        run_tool("audio-channels", media / "tone.wav", {"mode": "swap"}, tmp_path)


def test_silence_removal(media, tmp_path):
    out = run_tool("silence-removal", media / "gap.wav", {"thresholdDb": -50, "minSilenceS": 0.5},
                   tmp_path).outputs[0]
    assert duration(out) == pytest.approx(2.0, abs=0.2)  # 1 s + 1 s of tone, the 1.5 s pause gone
    samples = pcm(out)[:, 0]
    frames = samples[: len(samples) // 800 * 800].reshape(-1, 800)
    assert (np.sqrt((frames ** 2).mean(axis=1)) < 0.01).sum() <= 3  # no long silent stretch left


def test_noise_reduction_lowers_the_noise(media, tmp_path):
    src = pcm(media / "noisy.wav", rate_hz=44100)[:, 0]
    out = run_tool("noise-reduction", media / "noisy.wav", {"strength": "strong"}, tmp_path).outputs[0]
    got = pcm(out, rate_hz=44100)[:, 0]

    def band_energy(samples, lo, hi):
        spectrum = np.abs(np.fft.rfft(samples[44100 // 2:]))
        freqs = np.fft.rfftfreq(len(samples[44100 // 2:]), 1 / 44100)
        return spectrum[(freqs > lo) & (freqs < hi)].mean()

    # noise away from the tone falls a lot; the tone itself survives
    assert band_energy(got, 3000, 15000) < band_energy(src, 3000, 15000) * 0.35
    assert band_energy(got, 430, 450) > band_energy(src, 430, 450) * 0.5


def test_merge_audio(media, tmp_path):
    result = run_tool("merge-audio", [media / "tone.wav", media / "beep.m4a", media / "tone.mp3"],
                      {"format": "flac"}, tmp_path)
    out = result.outputs[0]
    assert out.suffix == ".flac" and duration(out) == pytest.approx(2 + 1.5 + 2, abs=0.1)
    samples = pcm(out)[:, 0]
    assert dominant_hz(samples[int(2.3 * SR): int(3.3 * SR)]) == pytest.approx(1000, rel=0.02)


@pytest.mark.parametrize("settings, count", [({"mode": "time", "segmentS": 1}, 4),
                                             ({"mode": "parts", "parts": 3}, 3),
                                             ({"mode": "silence", "thresholdDb": -40, "minSilenceS": 0.5}, 2)])
def test_split_audio(media, tmp_path, settings, count):
    result = run_tool("split-audio", media / "gap.wav", settings, tmp_path)
    zip_path, *parts = result.outputs
    assert zip_path.suffix == ".zip" and len(parts) == count
    assert len(zipfile.ZipFile(zip_path).namelist()) == count
    total = sum(duration(p) for p in parts)
    assert total == pytest.approx(3.5, abs=0.05)
    if settings["mode"] == "silence":
        assert dominant_hz(pcm(parts[0])[:SR // 2, 0]) == pytest.approx(440, rel=0.02)
        assert dominant_hz(pcm(parts[1])[-SR // 2:, 0]) == pytest.approx(660, rel=0.02)
        assert result.extra["cutsS"][0] == pytest.approx(1.75, abs=0.1)


def test_split_audio_nothing_to_split(media, tmp_path):
    with pytest.raises(ToolError):
        run_tool("split-audio", media / "tone.wav", {"mode": "silence"}, tmp_path)
    with pytest.raises(ToolError, match="shorter than one segment"):
        run_tool("split-audio", media / "tone.wav", {"mode": "time", "segmentS": 10}, tmp_path)


@pytest.mark.parametrize("fmt", ["mp3", "m4r"])
def test_ringtone_maker(media, tmp_path, fmt):
    out = run_tool("ringtone-maker", media / "gap.wav", {"startS": 0.5, "durationS": 2.5, "format": fmt},
                   tmp_path).outputs[0]
    assert out.suffix == f".{fmt}"
    assert duration(out) == pytest.approx(2.5, abs=0.06)
    assert audio(out)["codec_name"] == ("mp3" if fmt == "mp3" else "aac")
    with pytest.raises(ValidationError):
        run_tool("ringtone-maker", media / "gap.wav", {"durationS": 40}, tmp_path)


def test_waveform_image(media, tmp_path):
    out = run_tool("waveform-image", media / "ramp.wav", {"width": 400, "height": 100, "color": "#ff0000"},
                   tmp_path).outputs[0]
    with Image.open(out) as im:
        assert im.format == "PNG" and im.size == (400, 100)
        px = np.asarray(im.convert("RGBA"), dtype=np.int16)
    drawn = px[..., 3] > 128
    assert drawn.any() and (~drawn).any()
    assert px[drawn][:, 0].mean() > 200 and px[drawn][:, 1].mean() < 60
    # the ramp grows: more of the right half is drawn than of the left
    assert drawn[:, 300:].sum() > 2 * drawn[:, :100].sum()
    on_bg = run_tool("waveform-image", media / "tone.wav", {"width": 200, "height": 60, "background": "#00ff00"},
                     tmp_path).outputs[0]
    with Image.open(on_bg) as im:
        assert im.getpixel((0, 0))[:3] == (0, 255, 0)


def test_audio_metadata_read_write_strip(media, tmp_path):
    result = run_tool("audio-metadata", media / "tone.mp3", {"title": "Nouveau: ‘titre’", "album": "Album"}, tmp_path)
    tags = probe(result.outputs[0])["format"]["tags"]
    assert tags["title"] == "Nouveau: ‘titre’" and tags["album"] == "Album" and tags["artist"] == "Someone"
    assert result.extra["previousMetadata"]["title"] == "Old"
    assert result.extra["metadata"]["title"] == "Nouveau: ‘titre’"
    assert result.extra["sampleRate"] == 44100 and result.extra["codec"] == "mp3"
    stripped = run_tool("audio-metadata", media / "tone.mp3", {"strip": True, "artist": "Only me"}, tmp_path)
    tags = {k.lower(): v for k, v in probe(stripped.outputs[0])["format"].get("tags", {}).items()}
    assert tags.get("artist") == "Only me" and "title" not in tags and "encoder" not in tags
    assert duration(stripped.outputs[0]) == pytest.approx(2.0, abs=0.06)


@pytest.mark.parametrize("tool", ["convert-audio", "trim-audio", "reverse-audio", "normalize-audio",
                                  "waveform-image", "audio-metadata", "split-audio"])
@pytest.mark.parametrize("bad", ["truncated.mp4", "empty.mp4", "still.png", "silent.mp4", "notes.txt"])
def test_audio_bad_inputs(media, tmp_path, tool, bad):
    with pytest.raises(ToolError) as err:
        run_tool(tool, media / bad, {}, tmp_path)
    assert 400 <= err.value.status < 500
