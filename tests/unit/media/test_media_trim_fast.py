"""Stream copies that start beside the probe (fast trim, mute-video): the probe's verdict still decides."""

from __future__ import annotations

import shutil

import pytest
import trio

from actors import catalog
from actors.media import _ffmpeg as ff
from actors.media import ffprobe, trim_video
from protocols.errors import ToolError
from protocols.tools import ToolCall
from tests.helpers import run_tool
from tests.unit.media import mediautil
from tests.unit.media.mediautil import audio, duration, frames_gray, probe, streams, video


def make_call(inputs, settings, workdir, tool_id="trim-video"):
    workdir.mkdir(parents=True, exist_ok=True)
    settings = catalog.load()[tool_id].settings.model_validate(settings)
    return ToolCall(inputs=list(inputs), names=[p.name for p in inputs], settings=settings, workdir=workdir)


def test_fast_trim_copies_streams_and_reports_the_range(media, tmp_path):
    result = run_tool("trim-video", media / "clip.mp4", {"startS": 1, "endS": 2}, tmp_path)
    out = result.outputs[0]
    assert out.suffix == ".mp4"
    assert duration(out) == pytest.approx(1.0, abs=0.1)
    assert video(out)["codec_name"] == "h264" and audio(out)["codec_name"] == "aac"
    assert (result.extra["startS"], result.extra["endS"]) == (1.0, 2.0)
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1  # +faststart kept


def test_fast_trim_without_end_runs_to_the_end_and_clamps(media, tmp_path):
    result = run_tool("trim-video", media / "clip.mp4", {"startS": 1}, tmp_path)
    assert duration(result.outputs[0]) == pytest.approx(2.0, abs=0.1)
    assert result.extra["endS"] == pytest.approx(3.0, abs=0.05)  # from the probe, not from the settings
    result = run_tool("trim-video", media / "clip.mp4", {"startS": 1, "endS": 60}, tmp_path)
    assert duration(result.outputs[0]) == pytest.approx(2.0, abs=0.1)
    assert result.extra["endS"] == pytest.approx(3.0, abs=0.05)


def test_fast_trim_of_a_silent_video(media, tmp_path):
    out = run_tool("trim-video", media / "silent.mp4", {"startS": 0, "endS": 1}, tmp_path).outputs[0]
    assert streams(out, "audio") == [] and video(out)["codec_name"] == "h264"
    assert duration(out) == pytest.approx(1.0, abs=0.1)


def test_fast_trim_keeps_webm(media, tmp_path):
    out = run_tool("trim-video", media / "clip.webm", {"startS": 0, "endS": 1}, tmp_path).outputs[0]
    assert out.suffix == ".webm" and video(out)["codec_name"] == "vp9" and audio(out)["codec_name"] == "opus"


def test_fast_trim_same_frames_as_the_sequential_cut(media, tmp_path):
    """The side-by-side path and the probe-first path (a name that does not decide the container) cut alike."""
    odd = tmp_path / "clip.video"
    shutil.copy(media / "clip.mp4", odd)
    fast = run_tool("trim-video", media / "clip.mp4", {"startS": 1, "endS": 2}, tmp_path).outputs[0]
    slow = run_tool("trim-video", odd, {"startS": 1, "endS": 2}, tmp_path).outputs[0]
    assert slow.suffix == ".mp4"
    a, b = frames_gray(fast), frames_gray(slow)
    assert a.shape == b.shape and (a == b).all()
    assert probe(fast)["format"]["duration"] == probe(slow)["format"]["duration"]


@pytest.mark.parametrize("bad, settings, status", [
    ("truncated.mp4", {"startS": 0, "endS": 1}, 400),
    ("empty.mp4", {"startS": 0, "endS": 1}, 400),
    ("clip.mp4", {"startS": 10}, 400),  # past the end: ffmpeg alone would write an empty file
])
def test_probe_refusal_wins_and_leaves_no_output(media, tmp_path, bad, settings, status):
    with pytest.raises(ToolError) as err:
        run_tool("trim-video", media / bad, settings, tmp_path)
    assert err.value.status == status
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_duration_limit_refuses_even_though_the_copy_would_work(media, tmp_path):
    token = ffprobe.MAX_DURATION_S.set(2.0)
    try:
        with pytest.raises(ToolError) as err:
            run_tool("trim-video", media / "clip.mp4", {"startS": 0, "endS": 1}, tmp_path)
    finally:
        ffprobe.MAX_DURATION_S.reset(token)
    assert err.value.status == 413
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("tool_id, settings", [("trim-video", {"startS": 1, "endS": 2}), ("mute-video", {})])
async def test_copy_starts_before_the_probe_answers(media, tmp_path, monkeypatch, tool_id, settings):
    """The stream copy does not wait for ffprobe: the probe here answers only once ffmpeg has started."""
    started = trio.Event()
    real_probe, real_run = ffprobe.probe, ff.run

    async def run(*args, **kwargs):
        started.set()
        return await real_run(*args, **kwargs)

    async def probe_after_run(*args, **kwargs):
        with trio.fail_after(20):
            await started.wait()
        return await real_probe(*args, **kwargs)

    monkeypatch.setattr(ff, "run", run)
    monkeypatch.setattr(ffprobe, "probe", probe_after_run)
    call = make_call([media / "clip.mp4"], settings, tmp_path / "out", tool_id)
    result = await catalog.load()[tool_id].run(call)
    assert duration(result.outputs[0]) == pytest.approx(1.0 if tool_id == "trim-video" else 3.0, abs=0.1)


@pytest.mark.parametrize("bad", ["truncated.mp4", "tone.wav"])
def test_mute_refusals_leave_no_output(media, tmp_path, bad):
    path = media / bad
    if bad == "tone.wav":  # audio only, named as a video: the copy would work, the probe says no video
        path = tmp_path / "tone.mp4"
        mediautil.ffmpeg("-i", str(media / "tone.wav"), "-c:a", "aac", str(path))
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(ToolError) as err:
        run_tool("mute-video", path, {}, work)
    assert err.value.status == 400
    assert [p for p in work.rglob("*") if p.is_file()] == []


async def test_precise_trim_waits_for_the_probe(media, tmp_path, monkeypatch):
    """An encode never starts before the input is accepted."""
    order: list[str] = []
    real_probe, real_run = ffprobe.probe, ff.run

    async def run(*args, **kwargs):
        order.append("ffmpeg")
        return await real_run(*args, **kwargs)

    async def probe(*args, **kwargs):
        info = await real_probe(*args, **kwargs)
        order.append("probe")
        return info

    monkeypatch.setattr(ff, "run", run)
    monkeypatch.setattr(ffprobe, "probe", probe)
    call = make_call([media / "clip.mp4"], {"startS": 1, "endS": 2, "precise": True}, tmp_path / "out")
    await trim_video.run(call)
    assert order == ["probe", "ffmpeg"]
