"""Video and audio tools through the real HTTP route: 200/202 shapes, SSE progress, downloads, bad input."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile

import pytest

from tests.helpers import settings_field, wait_job
from tests.unit.media import mediautil


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return mediautil.build(tmp_path_factory.mktemp("api-media"))


def post(client, section, tool, paths, settings=None, field="file", extra_files=None, **kw):
    files = [(field, (p.name, p.read_bytes())) for p in paths]
    files += extra_files or []
    return client.post(f"/api/v1/tools/{section}/{tool}", files=files, data=settings_field(settings or {}), **kw)


def download(client, url, tmp_path, name):
    r = client.get(url)
    assert r.status_code == 200
    target = tmp_path / name
    target.write_bytes(r.content)
    return target


def sse_frames(client, job_id):
    frames = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
                if frames[-1]["status"] in ("completed", "failed", "canceled"):
                    break
    return frames


def test_long_tool_answers_202_and_streams_progress(client, media, tmp_path):
    r = post(client, "video", "convert-video", [media / "clip.mp4"], {"format": "webm", "quality": "small"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["async"] is True
    frames = sse_frames(client, body["jobId"])
    assert frames[-1]["status"] == "completed", frames[-1]
    result = frames[-1]["result"]
    out = download(client, result["downloadUrl"], tmp_path, "out.webm")
    assert mediautil.video(out)["codec_name"] == "vp9"
    assert result["originalSize"] == (media / "clip.mp4").stat().st_size


def test_fast_tool_answers_200(client, media, tmp_path):
    r = post(client, "video", "trim-video", [media / "clip.mp4"], {"startS": 1, "endS": 2, "precise": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["downloadUrl"].endswith(".mp4") and body["startS"] == 1
    out = download(client, body["downloadUrl"], tmp_path, "trim.mp4")
    assert mediautil.duration(out) == pytest.approx(1.0, abs=0.06)


@pytest.mark.parametrize("tool, section, name, status, code", [
    ("trim-video", "video", "still.png", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("trim-video", "video", "truncated.mp4", 400, "VALIDATION_ERROR"),
    ("trim-video", "video", "empty.mp4", 400, "VALIDATION_ERROR"),
    ("mute-video", "video", "tone.wav", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("extract-audio", "video", "silent.mp4", 400, "VALIDATION_ERROR"),
])
def test_bad_media_inputs(client, media, tool, section, name, status, code):
    r = post(client, section, tool, [media / name], {})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["error"]
    assert "/" not in body["error"].replace("audio/video", "")  # no paths leak


def test_truncated_mp4_on_a_long_tool_fails_cleanly(client, media):
    r = post(client, "video", "convert-video", [media / "truncated.mp4"], {})
    assert r.status_code == 202
    terminal = wait_job(client, r.json()["jobId"])
    assert terminal["status"] == "failed" and terminal["code"] == "VALIDATION_ERROR"


def test_trim_end_before_start_is_400(client, media):
    r = post(client, "video", "trim-video", [media / "clip.mp4"], {"startS": 2, "endS": 1})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    assert "endS" in r.json()["error"]


def test_out_of_range_setting_is_400(client, media):
    r = post(client, "video", "convert-video", [media / "clip.mp4"], {"format": "avi"})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"


def test_max_video_duration(make_server, media):
    srv = make_server(max_video_duration_s=1)
    with srv.client() as c:
        r = post(c, "video", "mute-video", [media / "clip.mp4"], {})
        assert r.status_code == 413, r.text
        assert "up to 1 s" in r.json()["error"]
        ok = post(c, "audio", "trim-audio", [media / "tone.wav"], {"startS": 0, "endS": 0.5}) if _has(c, "trim-audio") \
            else None
        if ok is not None:
            assert ok.status_code == 413  # tone.wav is 2 s: the limit applies to audio too


def _has(client, tool_id):
    return any(t["id"] == tool_id for t in client.get("/api/v1/tools").json()["tools"])


def test_cancel_kills_a_long_encode(client, media, tmp_path):
    long_clip = tmp_path / "long.mp4"
    mediautil.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=40", "-c:v", "libx264", "-preset", "ultrafast",
                     "-pix_fmt", "yuv420p", str(long_clip))
    r = post(client, "video", "compress-video", [long_clip], {"quality": "light"})
    assert r.status_code == 202
    job_id = r.json()["jobId"]
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", timeout=120) as response:
        for line in response.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:]).get("progress", 0) > 0:
                break
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": True}
    terminal = wait_job(client, job_id)
    assert terminal["status"] == "canceled"
    running = subprocess.run(["pgrep", "-f", str(long_clip.name)], capture_output=True, text=True).stdout.split()
    assert running == []


def test_several_outputs_come_as_zip(client, media):
    if not _has(client, "video-to-frames"):
        pytest.fail("video-to-frames is not registered")
    r = post(client, "video", "video-to-frames", [media / "clip.mp4"], {"mode": "nth", "n": 25, "format": "jpg"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["downloadUrl"].endswith(".zip") and len(body["downloads"]) == 3
    names = zipfile.ZipFile(io.BytesIO(client.get(body["downloadUrl"]).content)).namelist()
    assert len(names) == 3 and all(n.endswith(".jpg") for n in names)


# ---- every tool through the route ---------------------------------------------------------------------
# tool, section, inputs [(field, sample)], settings, check(output path) -> None
def _is_video(path, w=None):
    v = mediautil.video(path)
    assert v["codec_name"] in ("h264", "vp9")
    if w:
        assert v["width"] == w


def _is_audio(codec=None):
    def check(path):
        a = mediautil.audio(path)
        assert codec is None or a["codec_name"] == codec

    return check


ROUTE_CASES = [
    ("compress-video", "video", [("file", "clip.mp4")], {"quality": "strong"}, _is_video),
    ("mute-video", "video", [("file", "clip.mp4")], {}, lambda p: mediautil.streams(p, "audio") == []),
    ("video-to-gif", "video", [("file", "clip.mp4")], {"fps": 5, "width": 100, "durationS": 1},
     lambda p: p.read_bytes()[:6] == b"GIF89a"),
    ("resize-video", "video", [("file", "clip.mp4")], {"preset": "360p"}, lambda p: _is_video(p, 480)),
    ("crop-video", "video", [("file", "clip.mp4")], {"width": 100, "height": 100}, lambda p: _is_video(p, 100)),
    ("rotate-video", "video", [("file", "clip.mp4")], {"transform": "cw90"}, lambda p: _is_video(p, 240)),
    ("change-fps", "video", [("file", "clip.mp4")], {"fps": 12},
     lambda p: mediautil.rate(mediautil.video(p)["avg_frame_rate"]) == 12),
    ("video-color", "video", [("file", "clip.mp4")], {"contrast": 1.5}, _is_video),
    ("video-speed", "video", [("file", "clip.mp4")], {"factor": 2},
     lambda p: abs(mediautil.duration(p) - 1.5) < 0.1),
    ("reverse-video", "video", [("file", "clip.mp4")], {}, _is_video),
    ("video-loudnorm", "video", [("file", "speech.mp4")], {}, lambda p: abs(mediautil.loudness_lufs(p) + 16) <= 1),
    ("aspect-pad", "video", [("file", "clip.mp4")], {"target": "1:1"}, lambda p: _is_video(p, 320)),
    ("blur-pad", "video", [("file", "clip.mp4")], {"target": "1:1"}, lambda p: _is_video(p, 320)),
    ("watermark-video", "video", [("file", "clip.mp4")], {"text": "© Lutra: 'x'", "position": "center"}, _is_video),
    ("stabilize-video", "video", [("file", "clip.mp4")], {"smoothing": 5}, _is_video),
    ("gif-to-video", "video", [("file", "anim.gif")], {"format": "mp4"}, lambda p: _is_video(p, 120)),
    ("video-to-webp", "video", [("file", "clip.mp4")], {"width": 100},
     lambda p: p.read_bytes()[8:12] == b"WEBP"),
    ("video-to-frames", "video", [("file", "clip.mp4")], {"mode": "timestamps", "timestamps": [0.5, 1.5]},
     lambda p: len(zipfile.ZipFile(p).namelist()) == 2),
    ("merge-videos", "video", [("files", "clip.mp4"), ("files", "square.mp4")], {},
     lambda p: abs(mediautil.duration(p) - 4.5) < 0.15),
    ("replace-audio", "video", [("file", "clip.mp4"), ("audio", "beep.m4a")], {}, _is_audio("aac")),
    ("burn-subtitles", "video", [("file", "clip.mp4"), ("subtitle", "subs.srt")], {"fontSize": 20}, _is_video),
    ("embed-subtitles", "video", [("file", "clip.mp4"), ("subtitle", "subs.srt")], {"language": "ger"},
     lambda p: mediautil.streams(p, "subtitle")[0]["tags"]["language"] == "ger"),
    ("images-to-video", "video", [("files", "still.png"), ("files", "red.png")],
     {"secondsPerImage": 0.5, "resolution": "square", "fps": 5}, lambda p: _is_video(p, 1080)),
    ("video-metadata", "video", [("file", "clip.mp4")], {},
     lambda p: "title" not in mediautil.probe(p)["format"].get("tags", {})),
    ("extract-audio", "video", [("file", "clip.mp4")], {"format": "m4a"}, _is_audio("aac")),
    ("convert-audio", "audio", [("file", "tone.wav")], {"format": "ogg"}, _is_audio("vorbis")),
    ("trim-audio", "audio", [("file", "tone.wav")], {"startS": 0.5, "endS": 1},
     lambda p: abs(mediautil.duration(p) - 0.5) < 0.02),
    ("volume-adjust", "audio", [("file", "tone.wav")], {"gainDb": -6}, _is_audio("pcm_s16le")),
    ("normalize-audio", "audio", [("file", "speech.wav")], {}, lambda p: abs(mediautil.loudness_lufs(p) + 16) <= 1),
    ("fade-audio", "audio", [("file", "tone.mp3")], {"fadeInS": 0.5, "fadeOutS": 0}, _is_audio("mp3")),
    ("reverse-audio", "audio", [("file", "ramp.wav")], {}, _is_audio("pcm_s16le")),
    ("audio-speed", "audio", [("file", "tone.wav")], {"factor": 2}, lambda p: abs(mediautil.duration(p) - 1) < 0.05),
    ("pitch-shift", "audio", [("file", "tone.wav")], {"semitones": 12},
     lambda p: abs(mediautil.dominant_hz(mediautil.pcm(p)[4000:-4000, 0]) - 880) < 20),
    ("audio-channels", "audio", [("file", "left440_right1000.wav")], {"mode": "stereo-to-mono"},
     lambda p: mediautil.audio(p)["channels"] == 1),
    ("silence-removal", "audio", [("file", "gap.wav")], {}, lambda p: mediautil.duration(p) < 2.3),
    ("noise-reduction", "audio", [("file", "noisy.wav")], {"strength": "light"}, _is_audio("pcm_s16le")),
    ("merge-audio", "audio", [("files", "tone.wav"), ("files", "tone.mp3")], {"format": "wav"},
     lambda p: abs(mediautil.duration(p) - 4) < 0.1),
    ("split-audio", "audio", [("file", "gap.wav")], {"mode": "parts", "parts": 2},
     lambda p: len(zipfile.ZipFile(p).namelist()) == 2),
    ("ringtone-maker", "audio", [("file", "gap.wav")], {"durationS": 2, "format": "m4r"},
     lambda p: abs(mediautil.duration(p) - 2) < 0.06),
    ("waveform-image", "audio", [("file", "tone.wav")], {"width": 300, "height": 80},
     lambda p: p.read_bytes()[:4] == b"\x89PNG"),
    ("audio-metadata", "audio", [("file", "tone.mp3")], {"title": "T"},
     lambda p: mediautil.probe(p)["format"]["tags"]["title"] == "T"),
]


@pytest.mark.parametrize("tool, section, parts, settings, check", ROUTE_CASES, ids=[c[0] for c in ROUTE_CASES])
def test_every_media_tool_through_the_route(client, media, tmp_path, tool, section, parts, settings, check):
    files = [(field, (name, (media / name).read_bytes())) for field, name in parts]
    r = client.post(f"/api/v1/tools/{section}/{tool}", files=files, data=settings_field(settings))
    assert r.status_code in (200, 202), r.text
    body = r.json()
    if r.status_code == 202:
        terminal = wait_job(client, body["jobId"])
        assert terminal["status"] == "completed", terminal
        body = terminal["result"]
    out = download(client, body["downloadUrl"], tmp_path, body["downloadUrl"].rsplit("/", 1)[-1])
    assert check(out) is not False


def _accepts(tool_id):
    from actors import catalog

    return catalog.load()[tool_id].accepts


@pytest.mark.parametrize("tool, section", [(c[0], c[1]) for c in ROUTE_CASES], ids=[c[0] for c in ROUTE_CASES])
def test_every_media_tool_refuses_bad_input(client, media, tool, section):
    accepts = _accepts(tool)
    wrong = "notes.txt" if ("image" in accepts or "text" in accepts) else "still.png"
    count = 2 if tool in ("merge-videos", "merge-audio") else 1
    files = [("files" if count > 1 else "file", (wrong, (media / wrong).read_bytes()))] * count
    if tool in ("replace-audio", "burn-subtitles", "embed-subtitles"):
        files = [("file", ("clip.mp4", (media / "clip.mp4").read_bytes())),
                 ({"replace-audio": "audio"}.get(tool, "subtitle"), ("still.png", (media / "still.png").read_bytes()))]
    r = client.post(f"/api/v1/tools/{section}/{tool}", files=files, data=settings_field({}))
    if r.status_code == 202:  # long tools fail through the job
        terminal = wait_job(client, r.json()["jobId"])
        assert terminal["status"] == "failed" and terminal["code"] in ("VALIDATION_ERROR", "UNSUPPORTED_MEDIA_TYPE")
        return
    assert 400 <= r.status_code < 500, r.text
    assert set(r.json()) >= {"error", "code"}
    # a 0-byte file is refused before anything runs
    empty = [(f[0], ("empty.mp4", b"")) for f in files]
    r = client.post(f"/api/v1/tools/{section}/{tool}", files=empty, data=settings_field({}))
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"


def test_admin_health_reports_the_media_encoder(client):
    body = client.get("/api/v1/admin/health").json()
    media = body["queue"]["actors"]["media"]
    assert media["encoder"] in ("libx264", "h264_nvenc") and isinstance(media["nvenc"], bool)
    assert media["encoder"] == ("h264_nvenc" if media["nvenc"] else "libx264")


def test_batch_on_an_audio_tool(client, media):
    files = [("files", ("tone.wav", (media / "tone.wav").read_bytes())),
             ("files", ("gap.wav", (media / "gap.wav").read_bytes())),
             ("files", ("broken.mp4", (media / "truncated.mp4").read_bytes()))]
    r = client.post("/api/v1/tools/audio/convert-audio/batch", files=files, data=settings_field({"format": "mp3"}))
    assert r.status_code == 200, r.text
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert sorted(names) == ["gap.mp3", "tone.mp3"]
    assert "broken.mp4" in r.headers.get("x-file-errors", "")
