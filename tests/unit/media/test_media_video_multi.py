"""Frames, merging, audio replacement, subtitles (burned, embedded, extracted), slideshows, metadata."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from PIL import Image

from protocols.errors import ToolError
from tests.helpers import run_tool
from tests.unit.media.mediautil import (
    audio,
    dominant_hz,
    duration,
    frame_rgb,
    pcm,
    probe,
    streams,
    video,
)


def test_video_to_frames_every_nth_zips(media, tmp_path):
    result = run_tool("video-to-frames", media / "clip.mp4", {"mode": "nth", "n": 25, "format": "jpg"}, tmp_path)
    zip_path, *frames = result.outputs
    assert zip_path.suffix == ".zip" and len(frames) == 3 and result.extra["frames"] == 3
    assert sorted(zipfile.ZipFile(zip_path).namelist()) == sorted(f.name for f in frames)
    with Image.open(frames[0]) as im:
        assert im.format == "JPEG" and im.size == (320, 240)


def test_video_to_frames_all(media, tmp_path):
    result = run_tool("video-to-frames", media / "silent.mp4", {"mode": "all"}, tmp_path)
    assert len(result.outputs) == 1 + 50  # zip + 2 s at 25 fps
    assert all(p.suffix == ".png" for p in result.outputs[1:])


def test_video_to_frames_timestamps(media, tmp_path):
    result = run_tool("video-to-frames", media / "clip.mp4", {"mode": "timestamps", "timestamps": "0.2, 2.5"},
                      tmp_path)
    _, first, second = result.outputs
    a = np.asarray(Image.open(first).convert("L"), dtype=np.int16)
    b = np.asarray(Image.open(second).convert("L"), dtype=np.int16)
    ref = frame_rgb(media / "clip.mp4", 2.5).mean(axis=2)
    assert np.abs(b - ref).mean() < np.abs(a - ref).mean()  # the second frame is the one at 2.5 s
    with pytest.raises(ToolError, match="past the end"):
        run_tool("video-to-frames", media / "clip.mp4", {"mode": "timestamps", "timestamps": [9]}, tmp_path)


def test_video_to_frames_too_many(media, tmp_path, monkeypatch):
    from actors.media import video_to_frames

    monkeypatch.setattr(video_to_frames, "MAX_FRAMES", 10)
    with pytest.raises(ToolError) as err:
        run_tool("video-to-frames", media / "clip.mp4", {"mode": "all"}, tmp_path)
    assert err.value.status == 400


def test_merge_videos_normalises_to_the_first(media, tmp_path):
    result = run_tool("merge-videos", [media / "clip.mp4", media / "square.mp4", media / "clip.webm"], {}, tmp_path)
    out = result.outputs[0]
    v = video(out)
    assert (v["width"], v["height"]) == (320, 240)
    assert float(v["duration"]) == pytest.approx(3 + 1.5 + 2, abs=0.1)
    assert float(audio(out)["duration"]) == pytest.approx(3 + 1.5 + 2, abs=0.1)  # audio stays in sync
    samples = pcm(out)[:, 0]
    # 440 Hz for the first clip, silence for the square clip, 660 Hz for the webm
    assert dominant_hz(samples[16000:32000]) == pytest.approx(440, rel=0.03)
    assert np.abs(samples[int(3.3 * 16000):int(4.3 * 16000)]).max() < 0.01
    assert dominant_hz(samples[int(5 * 16000):int(6 * 16000)]) == pytest.approx(660, rel=0.03)


def test_replace_audio(media, tmp_path):
    out = run_tool("replace-audio", [media / "clip.mp4", media / "beep.m4a"], {}, tmp_path,
                   roles=["file", "audio"]).outputs[0]
    assert float(video(out)["duration"]) == pytest.approx(3.0, abs=0.05)
    samples = pcm(out)[:, 0]
    assert dominant_hz(samples[:16000]) == pytest.approx(1000, rel=0.02)
    with pytest.raises(ToolError, match="no audio"):
        run_tool("replace-audio", [media / "clip.mp4", media / "silent.mp4"], {}, tmp_path)


def test_burn_subtitles_draws_text(media, tmp_path):
    out = run_tool("burn-subtitles", [media / "clip.mp4", media / "subs.srt"], {"fontSize": 28}, tmp_path,
                   roles=["file", "subtitle"]).outputs[0]
    src, got = frame_rgb(media / "clip.mp4", 1.0), frame_rgb(out, 1.0)
    diff = np.abs(src - got).mean(axis=2)
    assert diff[170:, :].mean() > 6  # subtitle region at the bottom changed
    assert diff[:120, :].mean() < 3  # the top half did not
    assert duration(out) == pytest.approx(3.0, abs=0.1)


def test_burn_subtitles_rejects_non_subtitles(media, tmp_path):
    (tmp_path / "fake.srt").write_text("just some words\nwithout timing\n")
    with pytest.raises(ToolError) as err:
        run_tool("burn-subtitles", [media / "clip.mp4", tmp_path / "fake.srt"], {}, tmp_path)
    assert err.value.status == 400


def test_embed_then_extract_subtitles(media, tmp_path):
    embedded = run_tool("embed-subtitles", [media / "clip.mp4", media / "subs.srt"], {"language": "fre"},
                        tmp_path).outputs[0]
    subs = streams(embedded, "subtitle")
    assert len(subs) == 1 and subs[0]["codec_name"] == "mov_text" and subs[0]["tags"]["language"] == "fre"
    assert audio(embedded)["codec_name"] == "aac" and video(embedded)["codec_name"] == "h264"
    result = run_tool("extract-subtitles", embedded, {}, tmp_path)
    text = result.outputs[0].read_text(encoding="utf-8")
    assert result.outputs[0].suffix == ".srt" and result.extra["language"] == "fre"
    assert "Héllo" in text and "日本" in text and "00:00:02,500" in text
    mkv = tmp_path / "clip.mkv"
    import shutil

    shutil.copy(media / "clip.mp4", mkv)
    as_mkv = run_tool("embed-subtitles", [mkv, media / "subs.srt"], {}, tmp_path).outputs[0]
    assert as_mkv.suffix == ".mkv" and streams(as_mkv, "subtitle")[0]["codec_name"] == "subrip"


def test_extract_subtitles_without_track(media, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("extract-subtitles", media / "clip.mp4", {}, tmp_path)
    assert err.value.status == 400 and "no subtitle" in err.value.message


def test_embed_subtitles_bad_language():
    from pydantic import ValidationError

    from actors.media.embed_subtitles import EmbedSubtitlesSettings

    with pytest.raises(ValidationError):
        EmbedSubtitlesSettings.model_validate({"language": "english"})


def test_images_to_video(media, tmp_path):
    result = run_tool("images-to-video", [media / "still.png", media / "red.png"],
                      {"secondsPerImage": 1, "resolution": "720p", "fps": 5}, tmp_path)
    out = result.outputs[0]
    v = video(out)
    assert (v["width"], v["height"]) == (1280, 720) and v["pix_fmt"] == "yuv420p"
    assert float(v["duration"]) == pytest.approx(2.0, abs=0.2)
    centre = frame_rgb(out, 1.5)[300:420, 600:680]
    assert centre[..., 0].mean() > 200 and centre[..., 1].mean() < 50  # the red picture is second
    with pytest.raises(ToolError):
        run_tool("images-to-video", [media / "still.png", media / "clip.mp4"], {}, tmp_path)


def test_video_metadata_strips_tags(media, tmp_path):
    assert probe(media / "clip.mp4")["format"]["tags"]["title"] == "Secret title"
    result = run_tool("video-metadata", media / "clip.mp4", {}, tmp_path)
    info = probe(result.outputs[0])
    tags = {k.lower() for k in info["format"].get("tags", {})}
    assert not tags & {"title", "comment", "location", "encoder"}
    assert {"title", "comment"} <= set(result.extra["removed"])
    assert float(info["format"]["duration"]) == pytest.approx(3.0, abs=0.05)
    assert len(streams(result.outputs[0], "audio")) == 1


@pytest.mark.parametrize("fmt", ["vtt", "ass"])
def test_burn_subtitles_vtt_and_ass(media, tmp_path, fmt):
    from tests.unit.media.mediautil import ffmpeg

    converted = tmp_path / f"subs.{fmt}"
    ffmpeg("-i", str(media / "subs.srt"), str(converted))
    out = run_tool("burn-subtitles", [media / "clip.mp4", converted], {"fontSize": 30}, tmp_path).outputs[0]
    diff = np.abs(frame_rgb(media / "clip.mp4", 1.0) - frame_rgb(out, 1.0)).mean(axis=2)
    assert diff[150:, :].mean() > 4 and diff[:100, :].mean() < 3


def test_embed_subtitles_in_latin1(media, tmp_path):
    latin = tmp_path / "latin.srt"
    latin.write_bytes("1\n00:00:00,000 --> 00:00:01,000\nCafé déjà vu\n".encode("cp1252"))
    embedded = run_tool("embed-subtitles", [media / "clip.mp4", latin], {}, tmp_path).outputs[0]
    text = run_tool("extract-subtitles", embedded, {}, tmp_path).outputs[0].read_text(encoding="utf-8")
    assert "Café déjà vu" in text
