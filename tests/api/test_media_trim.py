"""The fast trim through the route (200 at once, probe refusals as 4xx JSON), and result downloads of
several read buffers: whole, and by ranges that cross the buffer boundaries."""

from __future__ import annotations

import pytest

from tests.helpers import settings_field
from tests.unit.media import mediautil


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory):
    """~1.5 MB: several 256 KiB file-response buffers."""
    path = tmp_path_factory.mktemp("api-trim") / "noise.mp4"
    mediautil.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4", "-f", "lavfi", "-i", "sine=d=4",
                     "-vf", "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                     "-pix_fmt", "yuv420p", "-c:a", "aac", str(path))
    return path


def trim(client, path, settings):
    return client.post("/api/v1/tools/video/trim-video", files={"file": (path.name, path.read_bytes())},
                       data=settings_field(settings))


def test_fast_trim_over_http_and_full_download(client, big_clip, tmp_path):
    r = trim(client, big_clip, {"startS": 1, "endS": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["startS"], body["endS"]) == (1.0, 3.0)
    got = client.get(body["downloadUrl"])
    assert got.status_code == 200 and len(got.content) == body["processedSize"] > 3 * (256 << 10)
    out = tmp_path / "cut.mp4"
    out.write_bytes(got.content)
    assert mediautil.duration(out) == pytest.approx(2.0, abs=0.1)
    assert mediautil.video(out)["codec_name"] == "h264" and mediautil.audio(out)["codec_name"] == "aac"

    whole = got.content
    for start, end in ((0, 9), ((256 << 10) - 5, (256 << 10) + 5), (300_000, 900_000), (len(whole) - 10, len(whole) - 1)):
        part = client.get(body["downloadUrl"], headers={"Range": f"bytes={start}-{end}"})
        assert part.status_code == 206
        assert part.content == whole[start:end + 1]


@pytest.mark.parametrize("settings, status, words", [
    ({"startS": 60}, 400, "past the end"),
    ({"startS": 2, "endS": 1}, 400, "endS must be after startS"),
])
def test_fast_trim_refusals(client, big_clip, settings, status, words):
    r = trim(client, big_clip, settings)
    assert r.status_code == status
    assert r.json()["code"] == "VALIDATION_ERROR" and words in r.json()["error"]


def test_fast_trim_of_a_truncated_mp4(client, big_clip, tmp_path):
    slow = tmp_path / "slow.mp4"
    mediautil.ffmpeg("-i", str(big_clip), "-c", "copy", str(slow))  # moov at the end
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(slow.read_bytes()[: slow.stat().st_size // 2])
    r = trim(client, cut, {"startS": 0, "endS": 1})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    assert "/" not in r.json()["error"]  # no path
