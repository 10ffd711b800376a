"""convert, compress, trim, mute, extract-audio on generated clips, checked with ffprobe."""

from __future__ import annotations

import pytest

from protocols.errors import ToolError
from tests.helpers import run_tool
from tests.unit.media.mediautil import audio, duration, probe, streams, video


@pytest.mark.parametrize("fmt, vcodec, acodec", [("mp4", "h264", "aac"), ("webm", "vp9", "opus"),
                                                  ("mov", "h264", "aac")])
def test_convert_video(media, tmp_path, fmt, vcodec, acodec):
    out = run_tool("convert-video", media / "clip.mp4", {"format": fmt, "quality": "small"}, tmp_path).outputs[0]
    assert out.suffix == f".{fmt}"
    v = video(out)
    assert v["codec_name"] == vcodec and (v["width"], v["height"]) == (320, 240) and v["pix_fmt"] == "yuv420p"
    assert audio(out)["codec_name"] == acodec
    assert duration(out) == pytest.approx(3.0, abs=0.1)


def test_convert_video_mp4_is_faststart(media, tmp_path):
    out = run_tool("convert-video", media / "clip.webm", {"format": "mp4"}, tmp_path).outputs[0]
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat"))


def test_compress_video_scales_and_shrinks(media, tmp_path):
    result = run_tool("compress-video", media / "clip.mp4", {"quality": "strong", "resolution": "480p"}, tmp_path)
    out = result.outputs[0]
    v = video(out)
    assert (v["width"], v["height"]) == (320, 240)  # never scaled up
    assert out.stat().st_size < (media / "clip.mp4").stat().st_size
    assert duration(out) == pytest.approx(3.0, abs=0.1)
    assert "title" not in probe(out)["format"].get("tags", {})


def test_compress_video_downscales(media, tmp_path):
    from tests.unit.media.mediautil import ffmpeg

    big = tmp_path / "big.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=10:d=1", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", str(big))
    result = run_tool("compress-video", big, {"resolution": "480p"}, tmp_path)
    v = video(result.outputs[0])
    assert (v["width"], v["height"]) == (854, 480) or (v["width"], v["height"]) == (852, 480)
    assert result.extra["height"] == 480


def test_trim_video_fast_and_precise(media, tmp_path):
    fast = run_tool("trim-video", media / "clip.mp4", {"startS": 1, "endS": 2}, tmp_path).outputs[0]
    assert duration(fast) == pytest.approx(1.0, abs=0.1)
    precise = run_tool("trim-video", media / "clip.mp4", {"startS": 0.52, "endS": 1.8, "precise": True},
                       tmp_path).outputs[0]
    assert float(video(precise)["duration"]) == pytest.approx(1.28, abs=0.04 + 0.01)  # within a frame
    assert audio(precise)["codec_name"] == "aac"
    # an end past the file's end is clamped
    tail = run_tool("trim-video", media / "clip.mp4", {"startS": 2, "endS": 50, "precise": True}, tmp_path)
    assert duration(tail.outputs[0]) == pytest.approx(1.0, abs=0.06)
    assert tail.extra["endS"] == pytest.approx(3.0, abs=0.05)


def test_trim_video_bad_ranges(media, tmp_path):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="endS must be after startS"):
        run_tool("trim-video", media / "clip.mp4", {"startS": 2, "endS": 1}, tmp_path)
    with pytest.raises(ToolError) as err:
        run_tool("trim-video", media / "clip.mp4", {"startS": 10}, tmp_path)
    assert err.value.status == 400 and "past the end" in err.value.message


def test_mute_video(media, tmp_path):
    out = run_tool("mute-video", media / "clip.mp4", {}, tmp_path).outputs[0]
    assert streams(out, "audio") == []
    assert video(out)["codec_name"] == "h264"
    assert duration(out) == pytest.approx(3.0, abs=0.05)


@pytest.mark.parametrize("fmt, codec", [("mp3", "mp3"), ("wav", "pcm_s16le"), ("m4a", "aac")])
def test_extract_audio(media, tmp_path, fmt, codec):
    out = run_tool("extract-audio", media / "clip.mp4", {"format": fmt}, tmp_path).outputs[0]
    assert out.suffix == f".{fmt}"
    assert streams(out, "video") == [] and audio(out)["codec_name"] == codec
    assert float(audio(out)["duration"]) == pytest.approx(3.0, abs=0.1)


@pytest.mark.parametrize("tool", ["convert-video", "trim-video", "mute-video", "extract-audio", "compress-video"])
@pytest.mark.parametrize("bad", ["truncated.mp4", "empty.mp4", "still.png"])
def test_bad_inputs_are_client_errors(media, tmp_path, tool, bad):
    with pytest.raises(ToolError) as err:
        run_tool(tool, media / bad, {}, tmp_path)
    assert 400 <= err.value.status < 500
