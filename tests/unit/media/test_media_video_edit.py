"""Picture edits: gif, resize, crop, rotate, fps, colour, speed, reverse, loudness, pads, watermark, stabilise."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from protocols.errors import ToolError
from tests.helpers import run_tool
from tests.unit.media.mediautil import (
    audio,
    dominant_hz,
    duration,
    ffmpeg,
    frame_rgb,
    frames_gray,
    loudness_lufs,
    pcm,
    rate,
    video,
)


def size(path):
    v = video(path)
    return int(v["width"]), int(v["height"])


def test_video_to_gif(media, tmp_path):
    result = run_tool("video-to-gif", media / "clip.mp4", {"fps": 10, "width": 160, "startS": 1, "durationS": 1},
                      tmp_path)
    out = result.outputs[0]
    with Image.open(out) as im:
        assert im.format == "GIF" and im.size == (160, 120)
        assert im.n_frames == pytest.approx(10, abs=1)
        assert im.info.get("loop") == 0


def test_video_to_gif_start_past_end(media, tmp_path):
    with pytest.raises(ToolError) as err:
        run_tool("video-to-gif", media / "clip.mp4", {"startS": 9}, tmp_path)
    assert err.value.status == 400


@pytest.mark.parametrize("settings, expected", [
    ({"preset": "360p"}, (480, 360)),
    ({"width": 160}, (160, 120)),
    ({"height": 100}, (134, 100)),
    ({"width": 200, "height": 100}, (200, 100)),
])
def test_resize_video(media, tmp_path, settings, expected):
    result = run_tool("resize-video", media / "clip.mp4", settings, tmp_path)
    assert size(result.outputs[0]) == expected
    assert duration(result.outputs[0]) == pytest.approx(3.0, abs=0.1)
    assert audio(result.outputs[0])["codec_name"] == "aac"


def test_resize_video_needs_a_size(media, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        run_tool("resize-video", media / "clip.mp4", {}, tmp_path)


def test_crop_video_takes_the_right_region(media, tmp_path):
    out = run_tool("crop-video", media / "clip.mp4", {"width": 100, "height": 80, "x": 40, "y": 20},
                   tmp_path).outputs[0]
    assert size(out) == (100, 80)
    src = frame_rgb(media / "clip.mp4", 1.0)[20:100, 40:140]
    got = frame_rgb(out, 1.0)
    assert np.abs(src - got).mean() < 12
    with pytest.raises(ToolError) as err:
        run_tool("crop-video", media / "clip.mp4", {"width": 300, "height": 80, "x": 40}, tmp_path)
    assert err.value.status == 400 and "does not fit" in err.value.message


@pytest.mark.parametrize("transform", ["cw90", "ccw90", "180", "hflip", "vflip"])
def test_rotate_video(media, tmp_path, transform):
    out = run_tool("rotate-video", media / "clip.mp4", {"transform": transform}, tmp_path).outputs[0]
    src = frame_rgb(media / "clip.mp4", 1.0)
    expected = {"cw90": np.rot90(src, -1), "ccw90": np.rot90(src, 1), "180": src[::-1, ::-1],
                "hflip": src[:, ::-1], "vflip": src[::-1]}[transform]
    got = frame_rgb(out, 1.0)
    assert got.shape == expected.shape
    assert np.abs(got - expected).mean() < 12


def test_change_fps(media, tmp_path):
    out = run_tool("change-fps", media / "clip.mp4", {"fps": 10}, tmp_path).outputs[0]
    assert rate(video(out)["avg_frame_rate"]) == pytest.approx(10, abs=0.01)
    assert duration(out) == pytest.approx(3.0, abs=0.12)
    assert len(frames_gray(out)) == pytest.approx(30, abs=1)


def test_video_color(media, tmp_path):
    bright = run_tool("video-color", media / "clip.mp4", {"brightness": 0.3}, tmp_path).outputs[0]
    assert frame_rgb(bright, 1).mean() > frame_rgb(media / "clip.mp4", 1).mean() + 30
    grey = run_tool("video-color", media / "clip.mp4", {"saturation": 0}, tmp_path).outputs[0]
    px = frame_rgb(grey, 1)
    assert np.abs(px[..., 0] - px[..., 1]).mean() < 4 and np.abs(px[..., 1] - px[..., 2]).mean() < 4


@pytest.mark.parametrize("factor, keep_pitch, expected_hz", [(2.0, True, 440), (2.0, False, 880), (0.5, True, 440)])
def test_video_speed(media, tmp_path, factor, keep_pitch, expected_hz):
    out = run_tool("video-speed", media / "clip.mp4", {"factor": factor, "keepPitch": keep_pitch},
                   tmp_path).outputs[0]
    assert float(video(out)["duration"]) == pytest.approx(3.0 / factor, abs=0.04 + 0.001)  # within a frame
    assert float(audio(out)["duration"]) == pytest.approx(3.0 / factor, abs=0.05)
    samples = pcm(out)[: 16000 // 2, 0]
    assert dominant_hz(samples) == pytest.approx(expected_hz, rel=0.03)


def test_reverse_video_reverses_frames(media, tmp_path):
    out = run_tool("reverse-video", media / "clip.mp4", {}, tmp_path).outputs[0]
    src, rev = frames_gray(media / "clip.mp4", (160, 120)), frames_gray(out, (160, 120))
    assert len(rev) == len(src)
    n = len(src)
    # frame i of the result is frame n-1-i of the source, far closer than the same-index frame
    reversed_err = np.mean([np.abs(rev[i] - src[n - 1 - i]).mean() for i in range(n)])
    same_err = np.mean([np.abs(rev[i] - src[i]).mean() for i in range(n)])
    assert reversed_err < 4 and same_err > 3 * reversed_err
    samples = pcm(out)[:, 0]
    assert dominant_hz(samples[:8000]) == pytest.approx(440, rel=0.03)


def test_video_loudnorm(media, tmp_path):
    before = loudness_lufs(media / "speech.mp4")
    result = run_tool("video-loudnorm", media / "speech.mp4", {}, tmp_path)
    out = result.outputs[0]
    assert before < -25
    assert loudness_lufs(out) == pytest.approx(-16, abs=1)
    assert result.extra["inputLufs"] == pytest.approx(before, abs=1)
    assert video(out)["codec_name"] == "h264"  # picture copied


def test_video_loudnorm_needs_audio(media, tmp_path):
    with pytest.raises(ToolError, match="no audio"):
        run_tool("video-loudnorm", media / "silent.mp4", {}, tmp_path)


def test_aspect_pad(media, tmp_path):
    out = run_tool("aspect-pad", media / "clip.mp4", {"target": "16:9", "color": "#ff0000"}, tmp_path).outputs[0]
    w, h = size(out)
    assert h == 240 and w / h == pytest.approx(16 / 9, abs=0.01)
    px = frame_rgb(out, 1)
    left_bar = px[:, :40]
    assert left_bar[..., 0].mean() > 200 and left_bar[..., 1].mean() < 40  # red bars
    square = run_tool("aspect-pad", media / "clip.mp4", {"target": "9:16"}, tmp_path).outputs[0]
    w, h = size(square)
    assert w == 320 and h / w == pytest.approx(16 / 9, abs=0.01)


def test_blur_pad(media, tmp_path):
    out = run_tool("blur-pad", media / "clip.mp4", {"target": "9:16", "blur": 20}, tmp_path).outputs[0]
    w, h = size(out)
    assert w == 320 and h / w == pytest.approx(16 / 9, abs=0.01)
    px = frame_rgb(out, 1)
    top = px[:100]
    assert top.mean() > 30  # filled with picture, not black
    # blurred: neighbouring pixels differ much less than in the sharp centre
    sharp = px[h // 2 - 100: h // 2 + 100]
    assert np.abs(np.diff(top, axis=1)).mean() < np.abs(np.diff(sharp, axis=1)).mean() / 2


def test_watermark_video(media, tmp_path):
    text = "Lutra: 'it\\'s' [ok], 日本 ©"
    out = run_tool("watermark-video", media / "clip.mp4", {"text": text, "position": "bottom-right",
                                                           "fontSize": 28, "opacity": 1, "color": "#ff00ff"},
                   tmp_path).outputs[0]
    src, got = frame_rgb(media / "clip.mp4", 1), frame_rgb(out, 1)
    diff = np.abs(src - got).mean(axis=2)
    assert diff[180:, 160:].mean() > 8  # the text is drawn bottom-right
    assert diff[:100, :150].mean() < 3  # and nowhere else


def test_stabilize_video_reduces_shake(tmp_path):
    still = tmp_path / "still.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=400x300", "-frames:v", "1", str(still))
    shaky = tmp_path / "shaky.mp4"
    ffmpeg("-loop", "1", "-i", str(still), "-t", "2", "-r", "25", "-vf",
           "crop=320:240:'40+25*sin(n*1.9)':'30+18*sin(n*2.7+1)',format=yuv420p", "-c:v", "libx264",
           "-preset", "ultrafast", str(shaky))
    result = run_tool("stabilize-video", shaky, {"smoothing": 15}, tmp_path)
    out = result.outputs[0]
    assert result.extra["method"] == "vidstab"
    assert size(out) == (320, 240)
    assert duration(out) == pytest.approx(2.0, abs=0.1)

    def shake(path):
        frames = frames_gray(path, (160, 120))[:, 30:90, 40:120]
        return np.abs(np.diff(frames, axis=0)).mean()

    assert shake(out) < shake(shaky) * 0.6


def test_gif_to_video(media, tmp_path):
    out = run_tool("gif-to-video", media / "anim.gif", {"format": "mp4"}, tmp_path).outputs[0]
    v = video(out)
    assert v["codec_name"] == "h264" and (v["width"], v["height"]) == (120, 90) and v["pix_fmt"] == "yuv420p"
    assert duration(out) == pytest.approx(1.0, abs=0.15)
    webm = run_tool("gif-to-video", media / "anim.gif", {"format": "webm"}, tmp_path).outputs[0]
    assert video(webm)["codec_name"] == "vp9"
    with pytest.raises(ToolError, match="not a GIF"):
        run_tool("gif-to-video", media / "clip.mp4", {}, tmp_path)


@pytest.mark.parametrize("loop", [True, False])
def test_video_to_webp(media, tmp_path, loop):
    out = run_tool("video-to-webp", media / "clip.mp4", {"fps": 5, "width": 160, "quality": 60, "loop": loop},
                   tmp_path).outputs[0]
    with Image.open(out) as im:
        assert im.format == "WEBP" and im.size == (160, 120) and im.is_animated
        assert im.n_frames == pytest.approx(15, abs=1)
        assert im.info.get("loop") == (0 if loop else 1)


def test_reverse_video_in_chunks(media, tmp_path, monkeypatch):
    """Longer clips are reversed chunk by chunk (bounded memory) and still come out fully reversed."""
    from actors.media import reverse_video

    monkeypatch.setattr(reverse_video, "CHUNK_S", 1.0)
    result = run_tool("reverse-video", media / "clip.mp4", {}, tmp_path)
    out = result.outputs[0]
    assert result.extra["chunks"] == 3
    assert float(video(out)["duration"]) == pytest.approx(3.0, abs=0.05)
    assert float(audio(out)["duration"]) == pytest.approx(3.0, abs=0.1)
    src, rev = frames_gray(media / "clip.mp4", (160, 120)), frames_gray(out, (160, 120))
    n = min(len(src), len(rev))
    assert abs(len(rev) - len(src)) <= 1
    reversed_err = np.mean([np.abs(rev[i] - src[len(src) - 1 - i]).mean() for i in range(n)])
    same_err = np.mean([np.abs(rev[i] - src[i]).mean() for i in range(n)])
    assert reversed_err < 5 and same_err > 3 * reversed_err
