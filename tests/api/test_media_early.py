"""An early start: trim-video begins while its upload is still arriving (ffmpeg and ffprobe read it from a
pipe), and everything that can go wrong with the upload meanwhile still ends in a clean answer.

Each upload here pauses half-way until admin health shows the media job running: that proves the job
started before the upload was complete, without relying on timing."""

from __future__ import annotations

import json
import threading

import httpx
import pytest

from tests.helpers import settings_field, wait_for
from tests.unit.media import mediautil

BOUNDARY = "earlyb0undary"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """The same 4 s clip twice: `+faststart` (index first: cut while arriving) and index last."""
    folder = tmp_path_factory.mktemp("early")
    late = folder / "late.mp4"
    mediautil.ffmpeg("-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=4", "-f", "lavfi", "-i", "sine=d=4",
                     "-vf", "noise=alls=40:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25",
                     "-pix_fmt", "yuv420p", "-c:a", "aac", str(late))
    fast = folder / "fast.mp4"
    mediautil.ffmpeg("-i", str(late), "-c", "copy", "-movflags", "+faststart", str(fast))
    return {"fast": fast, "late": late}


def media_running(server) -> int:
    with server.client() as c:
        return c.get("/api/v1/admin/health").json()["queue"]["actors"]["media"]["running"]


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"


def paused_upload(client, server, parts_before: bytes, rest: bytes, *, expect_early: bool = True,
                  disconnect: bool = False):
    """POST a trim whose body stops after `parts_before` until the media actor runs the job (or, with
    `expect_early=False`, checks that it does not), then sends `rest`; `disconnect` drops the connection
    instead of finishing."""
    seen: dict[str, int] = {}

    def body():
        yield parts_before
        if expect_early:
            seen["running"] = wait_for(lambda: media_running(server), 30, "the early-started job")
        else:
            seen["running"] = media_running(server)
        if disconnect:
            raise ConnectionAbortedError("client gives up")
        yield rest

    length = len(parts_before) + len(rest)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Content-Length": str(length)}
    response = client.post("/api/v1/tools/video/trim-video", content=body(), headers=headers)
    return response, seen


def split_clip(path, settings: dict, name: str = "clip.mp4") -> tuple[bytes, bytes]:
    data = path.read_bytes()
    half = len(data) // 2
    head = part("settings", json.dumps(settings).encode()) + (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
        + data[:half])
    return head, data[half:] + b"\r\n"


def test_a_faststart_mp4_is_cut_while_it_arrives(client, server, clips, tmp_path):
    head, rest = split_clip(clips["fast"], {"startS": 1, "endS": 3})
    r, seen = paused_upload(client, server, head, rest + f"--{BOUNDARY}--\r\n".encode())
    assert r.status_code == 200, r.text
    assert seen["running"] == 1
    body = r.json()
    assert (body["startS"], body["endS"], body["originalSize"]) == (1.0, 3.0, clips["fast"].stat().st_size)
    early = tmp_path / "early.mp4"
    early.write_bytes(client.get(body["downloadUrl"]).content)
    # the same request the usual way (the file before its settings: no early start) gives the same file
    usual = client.post("/api/v1/tools/video/trim-video", headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        content=part("file", clips["fast"].read_bytes(), "clip.mp4")
        + part("settings", json.dumps({"startS": 1, "endS": 3}).encode()) + f"--{BOUNDARY}--\r\n".encode())
    assert usual.status_code == 200, usual.text
    assert client.get(usual.json()["downloadUrl"]).content == early.read_bytes()
    assert mediautil.duration(early) == pytest.approx(2.0, abs=0.1)
    assert mediautil.video(early)["codec_name"] == "h264" and mediautil.audio(early)["codec_name"] == "aac"


def test_an_index_last_mp4_waits_for_its_upload_then_cuts_the_file(client, server, clips, tmp_path):
    head, rest = split_clip(clips["late"], {"startS": 1, "endS": 3})
    r, seen = paused_upload(client, server, head, rest + f"--{BOUNDARY}--\r\n".encode())
    assert r.status_code == 200, r.text
    out = tmp_path / "cut.mp4"
    out.write_bytes(client.get(r.json()["downloadUrl"]).content)
    assert mediautil.duration(out) == pytest.approx(2.0, abs=0.1)


def test_a_probe_refusal_still_answers_400_after_an_early_start(client, server, clips):
    head, rest = split_clip(clips["fast"], {"startS": 60})
    r, _ = paused_upload(client, server, head, rest + f"--{BOUNDARY}--\r\n".encode())
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    assert "past the end" in r.json()["error"]
    wait_for(lambda: media_running(server) == 0, 30, "the media actor to be idle")


def job_dirs(server) -> set[str]:
    folder = server.data_dir / "workspace"
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def test_a_request_refused_after_an_early_start_cancels_its_job(client, server, clips):
    before = job_dirs(server)
    head, rest = split_clip(clips["fast"], {"startS": 1, "endS": 3})
    second = part("file", b"\x00" * 100, "second.mp4")  # one file too many: the request is refused
    r, seen = paused_upload(client, server, head, rest + second + f"--{BOUNDARY}--\r\n".encode())
    assert seen["running"] == 1
    assert r.status_code == 400 and "at most 1 file" in r.json()["error"]
    wait_for(lambda: media_running(server) == 0, 30, "the canceled job to end")
    assert job_dirs(server) == before  # nothing left in the workspace


def test_a_client_that_goes_away_mid_upload_leaves_nothing_running(client, server, clips):
    before = job_dirs(server)
    head, rest = split_clip(clips["fast"], {"startS": 1, "endS": 3})
    with pytest.raises((httpx.HTTPError, ConnectionAbortedError)):
        paused_upload(client, server, head, rest, disconnect=True)
    wait_for(lambda: media_running(server) == 0, 30, "the abandoned job to end")
    wait_for(lambda: job_dirs(server) == before, 30, "the abandoned job's folder to go")
    assert client.get("/api/v1/health").status_code == 200


def test_no_early_start_without_settings_first_or_a_free_slot(client, server, clips):
    # the file part before its settings: the settings are not known yet, so the job waits for the upload
    data = clips["fast"].read_bytes()
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="c.mp4"\r\n\r\n'.encode() + data[:len(data) // 2]
    rest = data[len(data) // 2:] + b"\r\n" + part("settings", json.dumps({"startS": 1, "endS": 2}).encode()) \
        + f"--{BOUNDARY}--\r\n".encode()
    r, seen = paused_upload(client, server, head, rest, expect_early=False)
    assert seen["running"] == 0 and r.status_code == 200, r.text


def test_settings_refused_before_the_file_give_the_usual_400(client, server, clips):
    r = client.post("/api/v1/tools/video/trim-video", files={"file": ("c.mp4", clips["fast"].read_bytes())},
                    data=settings_field({"startS": 2, "endS": 1}))
    assert r.status_code == 400 and "endS must be after startS" in r.json()["error"]


def test_concurrent_early_uploads_all_succeed(server, clips):
    """More early-eligible uploads than media slots at once: those that find no free slot take the usual
    path; every one of them answers 200 with a correct cut."""
    results: list[int] = []

    def one() -> None:
        with server.client() as c:
            r = c.post("/api/v1/tools/video/trim-video", files={"file": ("c.mp4", clips["fast"].read_bytes())},
                       data=settings_field({"startS": 1, "endS": 3}))
            results.append(r.status_code)

    threads = [threading.Thread(target=one) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 5
