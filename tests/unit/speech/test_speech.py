"""Speech: Whisper tiny.en (installed for real from its PyPI package) transcribes espeak-ng speech."""

from __future__ import annotations

import subprocess

import pytest

from actors.vision import _models
from protocols.errors import ToolError
from tests.helpers import run_tool

SAY = "hello world this is a test of the speech recognition"


@pytest.fixture(scope="module")
def whisper(tmp_path_factory):
    root = _models.configure(tmp_path_factory.mktemp("speech-models"))
    _models.install("transcription", root)
    return root


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "130", "-w", str(path), SAY], check=True, timeout=60)
    return path


def words(text: str) -> set[str]:
    return {w.strip(".,!?").lower() for w in text.split()}


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt"])
def test_transcribe_audio(whisper, speech_wav, tmp_path, fmt):
    _models.configure(whisper)
    result = run_tool("transcribe-audio", speech_wav, {"outputFormat": fmt}, tmp_path)
    # Whisper tiny.en on synthetic speech: the content words come back (tiny mishears a few short ones)
    heard = words(result.extra["text"])
    assert {"world", "test", "speech", "recognition"} <= heard and len(heard & words(SAY)) >= 6, heard
    body = result.outputs[0].read_text()
    assert result.outputs[0].suffix == f".{fmt}"
    if fmt == "srt":
        assert body.startswith("1\n00:00:0") and " --> " in body
    elif fmt == "vtt":
        assert body.startswith("WEBVTT")
    assert 2 < result.extra["duration"] < 10


def test_auto_subtitles_burned(whisper, speech_wav, tmp_path):
    _models.configure(whisper)
    video = tmp_path / "clip.mp4"
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=navy:s=160x120:d=5", "-i", str(speech_wav), "-shortest", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", "-c:a", "aac", str(video)], check=True, timeout=120)
    result = run_tool("auto-subtitles", video, {"format": "vtt", "burn": True}, tmp_path)
    names = [p.suffix for p in result.outputs]
    assert names[0] == ".zip" and ".mp4" in names and ".vtt" in names
    assert "speech" in result.extra["text"].lower()
    mp4 = next(p for p in result.outputs if p.suffix == ".mp4")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(mp4)],
                           capture_output=True, check=True, timeout=60)
    assert float(probe.stdout) > 2


def test_speech_bad_inputs(whisper, tmp_path):
    _models.configure(whisper)
    (tmp_path / "x.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    with pytest.raises(ToolError) as info:
        run_tool("transcribe-audio", tmp_path / "x.wav", {}, tmp_path)
    assert info.value.status == 400
    with pytest.raises(ToolError) as info:  # tiny.en reads English only
        run_tool("transcribe-audio", tmp_path / "x.wav", {"language": "de"}, tmp_path)
    assert info.value.status == 400
