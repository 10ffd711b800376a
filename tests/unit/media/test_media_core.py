"""The ffmpeg helpers and the MediaActor: probing, progress parsing, escaping, cancel, limits, progress frames."""

from __future__ import annotations

import math
import subprocess

import pytest
import trio

from actors import catalog
from actors.media import _codecs, ffprobe
from actors.media import _ffmpeg as ff
from actors.media.actor import MediaActor, create
from protocols.errors import ErrorCode, ToolError
from protocols.jobs import Done, Failed, Job, Progress
from protocols.tools import REGISTRY, Mode, Runs, ToolCall


def make_call(tool_id, inputs, settings, workdir, names=None):
    spec = catalog.load()[tool_id]
    out = workdir / f"out-{tool_id}"
    out.mkdir(parents=True, exist_ok=True)
    return ToolCall(inputs=list(inputs), names=names or [p.name for p in inputs],
                    settings=spec.settings.model_validate(settings), workdir=out)


async def test_probe_reads_streams(media):
    info = await ffprobe.probe(media / "clip.mp4")
    assert info.video and (info.video.width, info.video.height) == (320, 240)
    assert info.video.fps == pytest.approx(25)
    assert info.audio and info.audio.channels == 2
    assert info.duration == pytest.approx(3.0, abs=0.05)
    assert info.tags["title"] == "Secret title"


@pytest.mark.parametrize("name, message", [
    ("truncated.mp4", "corrupt"), ("empty.mp4", "empty"), ("notes.txt", "not a readable"),
])
async def test_probe_refuses_non_media(media, name, message):
    with pytest.raises(ToolError) as err:
        await ffprobe.probe(media / name)
    assert err.value.status == 400 and message in err.value.message
    assert str(media) not in err.value.message


async def test_open_input_requirements(media, tmp_path):
    call = make_call("mute-video", [media / "still.png"], {}, tmp_path)
    with pytest.raises(ToolError, match="is an image, not a video"):
        await ffprobe.open_input(call, video=True)
    call = make_call("extract-audio", [media / "silent.mp4"], {}, tmp_path)
    with pytest.raises(ToolError, match="has no audio stream"):
        await ffprobe.open_input(call, audio=True)
    call = make_call("mute-video", [media / "tone.wav"], {}, tmp_path)
    with pytest.raises(ToolError, match="has no video stream"):
        await ffprobe.open_input(call, video=True)
    token = ffprobe.MAX_DURATION_S.set(2.0)
    try:
        call = make_call("mute-video", [media / "clip.mp4"], {}, tmp_path)
        with pytest.raises(ToolError) as err:
            await ffprobe.open_input(call, video=True)
        assert err.value.status == 413 and "up to 2 s" in err.value.message
    finally:
        ffprobe.MAX_DURATION_S.reset(token)


def test_progress_parsing():
    block = ff.parse_progress_block(["frame=10", "out_time_us=1500000", "out_time=00:00:01.500000",
                                     "progress=continue"])
    assert ff.out_time_s(block) == 1.5
    assert ff.out_time_s({"out_time": "01:02:03.5"}) == pytest.approx(3723.5)
    assert ff.out_time_s({"out_time_us": "N/A"}) is None
    seen = []
    call = ToolCall(inputs=[], names=[], settings=None, workdir=None, progress=lambda p, m: seen.append((p, m)))  # type: ignore[arg-type]
    reporter = ff.ProgressReporter(call, 4.0, (50, 100), "pass 2")
    reporter.update({"out_time_us": "2000000", "progress": "continue"})
    reporter.update({"out_time_us": "1000000", "progress": "continue"})  # never goes backwards
    reporter.update({"progress": "end"})
    assert seen == [(75.0, "pass 2"), (99.0, "pass 2")]


def test_escape_option_covers_special_characters():
    # level 1 (option value) then level 2 (filtergraph): quotes, colons, backslashes, brackets, commas
    assert ff.escape_option("a:b") == "a\\\\:b"
    assert ff.escape_option("it's") == "it\\\\\\'s"
    assert ff.escape_option("x,y;[z]") == "x\\,y\\;\\[z\\]"
    assert ff.escape_option("日本") == "日本"
    # and ffmpeg agrees: drawtext renders the escaped text without a parse error
    text = "Héllo: \"it's\" 50% \\ [a,b];"
    vf = f"drawtext=fontfile={ff.escape_option(ff.FONT)}:text={ff.escape_option(text)}:expansion=none"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=s=64x64:d=0.1", "-vf", vf, "-f", "null", "-"],
                   check=True, timeout=30)


def test_hex_color_and_atempo():
    assert ff.hex_color("#abc") == "0xAABBCC" and ff.hex_color("ff0000") == "0xFF0000"
    for factor in (0.25, 0.4, 1.0, 3.7, 4.0):
        values = [float(p.split("=")[1]) for p in _codecs.atempo_chain(factor)]
        assert all(0.5 <= v <= 2.0 for v in values)
        assert math.prod(values) == pytest.approx(factor)


def test_registry_modes_and_family():
    catalog.load()
    long_tools = {"convert-video", "compress-video", "video-to-gif", "stabilize-video", "merge-videos",
                  "burn-subtitles"}
    media_tools = {k: s for k, s in REGISTRY.items() if s.family.value == "media"}
    assert media_tools, "no media tools registered"
    for tool_id, spec in media_tools.items():
        assert spec.runs is Runs.LOOP, tool_id
        assert spec.mode is (Mode.LONG if tool_id in long_tools else Mode.FAST), tool_id
        assert spec.section.value in ("video", "audio")


def _job(tool_id, call, events, deadline=60):
    return Job(id=f"job-{tool_id}-{len(events)}", tool_id=tool_id, call=call, deadline_s=deadline,
               reply=events.append)


async def test_actor_runs_a_long_tool_with_progress(media, tmp_path):
    catalog.load()
    actor = create(2, 8, {"max_video_duration_s": 0})
    assert isinstance(actor, MediaActor)
    events: list = []
    call = make_call("convert-video", [media / "clip.mp4"], {"format": "mp4", "quality": "small"}, tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(_job("convert-video", call, events))
        with trio.fail_after(60):
            while not any(isinstance(e, (Done, Failed)) for e in events):
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    assert isinstance(events[-1], Done), events[-1]
    percents = [e.progress for e in events if isinstance(e, Progress)]
    assert percents[0] == 0 and max(percents) > 0
    assert percents == sorted(percents)
    assert actor.health()["encoder"] in ("libx264", "h264_nvenc")


async def test_actor_enforces_duration_limit(media, tmp_path):
    catalog.load()
    actor = create(1, 8, {"max_video_duration_s": 1})
    events: list = []
    call = make_call("mute-video", [media / "clip.mp4"], {}, tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(_job("mute-video", call, events))
        with trio.fail_after(30):
            while not any(isinstance(e, (Done, Failed)) for e in events):
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    assert isinstance(events[-1], Failed) and events[-1].status == 413


async def test_cancel_and_deadline_kill_ffmpeg(tmp_path):
    """A long ffmpeg run is killed at once when its scope is cancelled (what cancel and deadlines do)."""
    started = trio.Event()
    holder = {}

    def progress(p, m):
        started.set()

    call = ToolCall(inputs=[], names=[], settings=None, workdir=tmp_path, progress=progress)  # type: ignore[arg-type]
    target = tmp_path / "never.mp4"

    async def encode():
        await ff.run(["-re", "-f", "lavfi", "-i", "testsrc2=s=64x64:r=10:d=600", "-c:v", "libx264", "-preset",
                      "ultrafast", ff.out(target)], call=call, duration=600)

    with trio.move_on_after(30) as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(encode)
            await started.wait()
            holder["ps"] = _ffmpeg_children()
            nursery.cancel_scope.cancel()
    assert not scope.cancelled_caught
    assert holder["ps"], "ffmpeg was not running"
    for pid in holder["ps"]:
        assert not _alive(pid)

    with pytest.raises(ToolError) as err:
        await ff.run(["-re", "-f", "lavfi", "-i", "testsrc2=s=64x64:r=10:d=600", "-f", "null", "-"], timeout=0.5)
    assert err.value.code is ErrorCode.TIMEOUT


def _ffmpeg_children() -> list[int]:
    import psutil

    return [p.pid for p in psutil.Process().children(recursive=True) if p.name() == "ffmpeg"]


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_actor_deadline_kills_ffmpeg(tmp_path):
    long_clip = tmp_path / "long.mp4"
    await trio.run_process(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=60", "-c:v",
                            "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(long_clip)])
    catalog.load()
    actor = create(1, 8, {})
    events: list = []
    call = make_call("compress-video", [long_clip], {"quality": "light"}, tmp_path)
    async with trio.open_nursery() as nursery:
        await nursery.start(actor.run)
        actor.submit(_job("compress-video", call, events, deadline=1.0))
        with trio.fail_after(30):
            while not any(isinstance(e, (Done, Failed)) for e in events):
                await trio.sleep(0.05)
        nursery.cancel_scope.cancel()
    assert isinstance(events[-1], Failed) and events[-1].code is ErrorCode.TIMEOUT
    assert _ffmpeg_children() == []
