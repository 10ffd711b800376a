"""The foundation over HTTP against a real server: tools, jobs, SSE, batch, downloads, bad input."""

from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import unquote

import pytest
import pyvips

from tests.helpers import settings_field, wait_for, wait_job


def post_tool(client, tool, path, settings=None, section="image", **kw):
    with open(path, "rb") as fh:
        return client.post(f"/api/v1/tools/{section}/{tool}", files={"file": (path.name, fh)},
                           data=settings_field(settings or {}), **kw)


def test_health_and_auth_config(client):
    assert client.get("/api/v1/health").json()["status"] == "healthy"
    assert client.get("/api/v1/config/auth").json() == {"authEnabled": True}


def test_resize_roundtrip_and_download(client, samples):
    r = post_tool(client, "resize", samples / "photo.jpg", {"width": 120})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"jobId", "downloadUrl", "originalSize", "processedSize"}
    assert body["originalSize"] == (samples / "photo.jpg").stat().st_size
    d = client.get(body["downloadUrl"])
    assert d.status_code == 200 and len(d.content) == body["processedSize"]
    assert pyvips.Image.new_from_buffer(d.content, "").width == 120
    assert "attachment" in d.headers["content-disposition"]
    # Range support
    part = client.get(body["downloadUrl"], headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and len(part.content) == 10
    whole = client.get(body["downloadUrl"], headers={"Range": "bytes=0-99999999"})  # past the end: cut there
    assert whole.status_code == 206 and whole.content == d.content
    assert whole.headers["content-range"] == f"bytes 0-{len(d.content) - 1}/{len(d.content)}"
    # security headers on every response
    assert d.headers["x-content-type-options"] == "nosniff" and d.headers["x-frame-options"] == "DENY"


def test_finished_job_keeps_its_output_not_its_upload(client, server, samples):
    r = post_tool(client, "resize", samples / "photo.jpg", {"width": 80})
    assert r.status_code == 200, r.text
    job = server.data_dir / "workspace" / r.json()["jobId"]
    wait_for(lambda: not (job / "in").exists(), 10, "the upload to be removed")
    assert [p.name for p in (job / "out").iterdir()]
    assert client.get(r.json()["downloadUrl"]).status_code == 200


def test_uploads_written_over_spooled_files_each_hold_their_own_image(client, server, samples, tmp_path):
    """A finished job's upload is kept as a scratch file that a new upload is written over: the new job
    must see its own (here smaller, other-format) image and nothing of the old one."""
    r = post_tool(client, "resize", samples / "photo.jpg", {"width": 80})
    assert r.status_code == 200, r.text
    spool = server.data_dir / "spool"
    wait_for(lambda: any(spool.iterdir()), 10, "the upload to be kept in the spool")
    small = tmp_path / "small.png"
    pyvips.Image.black(64, 48).draw_rect([200, 10, 10], 0, 0, 32, 48, fill=True).pngsave(str(small))
    for _ in range(3):
        r = post_tool(client, "resize", small, {"width": 32})
        assert r.status_code == 200, r.text
        out = pyvips.Image.new_from_buffer(client.get(r.json()["downloadUrl"]).content, "")
        assert (out.width, out.height, out.get("vips-loader")) == (32, 24, "pngload_buffer")
        assert r.json()["originalSize"] == small.stat().st_size
        assert out.crop(0, 0, 16, 24).avg() > 20 and out.crop(16, 0, 16, 24).avg() < 1  # left red, right black


def test_section_less_alias(client, samples):
    with open(samples / "photo.png", "rb") as fh:
        r = client.post("/api/v1/tools/rotate", files={"file": ("p.png", fh)}, data=settings_field({"angle": 90}))
    assert r.status_code == 200, r.text


def test_job_state_and_sse_replay(client, samples):
    r = post_tool(client, "crop", samples / "photo.png", {"width": 50, "height": 40})
    job_id = r.json()["jobId"]
    state = client.get(f"/api/v1/jobs/{job_id}").json()
    assert state["status"] == "completed" and state["result"]["jobId"] == job_id
    terminal = wait_job(client, job_id)  # a late subscriber gets the terminal frame, then the stream ends
    assert terminal["status"] == "completed" and terminal["progress"] == 100
    assert terminal["result"] == r.json()


def test_cancel_finished_job_is_false(client, samples):
    job_id = post_tool(client, "crop", samples / "photo.png", {"width": 5, "height": 5}).json()["jobId"]
    assert client.post(f"/api/v1/jobs/{job_id}/cancel").json() == {"canceled": False}


def test_unknown_job_is_404(client):
    assert client.get("/api/v1/jobs/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/api/v1/jobs/not-a-job").status_code == 404


def test_batch_zip_with_per_file_errors(client, samples):
    files = [("files", ("a.jpg", (samples / "photo.jpg").read_bytes())),
             ("files", ("b.jpg", (samples / "photo.jpg").read_bytes())),
             ("files", ("bad.png", (samples / "text.png").read_bytes())),
             ("files", ("c.png", (samples / "photo.png").read_bytes()))]
    r = client.post("/api/v1/tools/image/resize/batch", files=files, data=settings_field({"width": 64}))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    results = json.loads(unquote(r.headers["x-file-results"]))
    archive = zipfile.ZipFile(io.BytesIO(r.content))
    names = archive.namelist()
    assert len(names) == 3 and len(set(names)) == 3
    assert sorted(results) == ["0", "1", "3"]  # the text file failed, the rest ran
    assert {"a.jpg", "b.jpg", "c.png"} == set(names)
    for name in names:
        assert pyvips.Image.new_from_buffer(archive.read(name), "").width == 64
    job_id = r.headers["x-job-id"]
    state = client.get(f"/api/v1/jobs/{job_id}").json()
    assert state["totalFiles"] == 4 and state["completedFiles"] == 3 and state["failedFiles"] == 1
    assert state["errors"][0]["filename"] == "bad.png"
    again = client.get(state["result"]["downloadUrl"])  # still downloadable after the response
    assert again.status_code == 200 and again.content == r.content


def test_batch_with_prefer_respond_async_answers_at_once_and_its_frames_say_each_files_state(client, samples):
    files = [("files", ("a.jpg", (samples / "photo.jpg").read_bytes())),
             ("files", ("bad.png", (samples / "text.png").read_bytes())),
             ("files", ("c.png", (samples / "photo.png").read_bytes()))]
    r = client.post("/api/v1/tools/image/resize/batch", files=files, data=settings_field({"width": 64}),
                    headers={"Prefer": "respond-async"})
    assert r.status_code == 202, r.text
    assert r.headers["preference-applied"] == "respond-async" and r.json()["async"] is True
    frames = []
    with client.stream("GET", f"/api/v1/jobs/{r.json()['jobId']}/progress", timeout=120) as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
    assert frames and all(len(f["files"]) == 3 and not [k for k in f if k.startswith("_")] for f in frames)
    final = frames[-1]
    assert final["status"] == "completed"
    states = final["files"]
    assert [(s["index"], s["filename"], s["status"]) for s in states] == [
        (0, "a.jpg", "completed"), (1, "bad.png", "failed"), (2, "c.png", "completed")]
    assert "image" in states[1]["error"].lower() and "downloadUrl" not in states[1]
    archive = zipfile.ZipFile(io.BytesIO(client.get(final["result"]["downloadUrl"]).content))
    for state in (states[0], states[2]):  # each file's own download is its entry of the ZIP
        own = client.get(state["downloadUrl"])
        assert own.status_code == 200 and own.content == archive.read(state["output"])
        assert pyvips.Image.new_from_buffer(own.content, "").width == 64
    assert final["result"]["fileResults"] == {"0": states[0]["output"], "2": states[2]["output"]}


def test_batch_duplicate_names_are_made_unique(client, samples):
    data = (samples / "photo.jpg").read_bytes()
    r = client.post("/api/v1/tools/image/compress/batch", files=[("files", ("x.jpg", data)), ("files", ("x.jpg", data))],
                    data=settings_field({"quality": 50}))
    assert sorted(zipfile.ZipFile(io.BytesIO(r.content)).namelist()) == ["x.jpg", "x_1.jpg"]


def test_batch_all_failed_is_422(client, samples):
    r = client.post("/api/v1/tools/image/resize/batch", files=[("files", ("t.png", b"hello"))],
                    data=settings_field({"width": 10}))
    assert r.status_code == 422 and r.json()["code"] == "PROCESSING_FAILED" and r.json()["errors"]


@pytest.mark.parametrize("name, status, code", [
    ("corrupt.jpg", 400, "VALIDATION_ERROR"),
    ("truncated.jpg", 422, "PROCESSING_FAILED"),
    ("text.png", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("empty.png", 400, "VALIDATION_ERROR"),
])
def test_bad_files(client, samples, name, status, code):
    r = post_tool(client, "resize", samples / name, {"width": 10})
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and body["error"]
    assert "/" not in body["error"]  # no paths leak
    assert client.get("/api/v1/health").status_code == 200


@pytest.mark.parametrize("settings_raw, path", [
    ('{"width": 0}', "width"),
    ('{"width": 100, "fit": "squash"}', "fit"),
    ('{"width": "wide"}', "width"),
    ("{}", None),
])
def test_bad_settings(client, samples, settings_raw, path):
    with open(samples / "photo.jpg", "rb") as fh:
        r = client.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", fh)}, data={"settings": settings_raw})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "VALIDATION_ERROR" and body["details"]
    if path:
        assert body["details"][0]["path"] == path


def test_settings_not_json(client, samples):
    with open(samples / "photo.jpg", "rb") as fh:
        r = client.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", fh)}, data={"settings": "{width:"})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"


def test_unknown_tool_and_missing_file(client, samples):
    assert client.post("/api/v1/tools/image/teleport", data={"settings": "{}"}).status_code == 404
    assert client.post("/api/v1/tools/video/resize", data={"settings": "{}"}).status_code == 404
    r = client.post("/api/v1/tools/image/resize", data={"settings": '{"width": 5}'})
    assert r.status_code == 400 and r.json()["code"] == "VALIDATION_ERROR"
    r = client.post("/api/v1/tools/image/resize", json={"width": 5})
    assert r.status_code == 400


@pytest.mark.parametrize("path", [
    "/api/v1/download/00000000-0000-4000-8000-000000000000/..%2F..%2Flutra.db",
    "/api/v1/download/00000000-0000-4000-8000-000000000000/.hidden",
    "/api/v1/download/..%2F..%2F/lutra.db",
    "/api/v1/download/00000000-0000-4000-8000-000000000000/a%5C..%5Cb",
    "/api/v1/download/00000000-0000-4000-8000-000000000000/files/..%2F..%2Flutra.db",  # a batch's own files
    "/api/v1/download/00000000-0000-4000-8000-000000000000/files/.hidden",
    "/api/v1/download/00000000-0000-4000-8000-000000000000/items/0/out/a.jpg",  # only out/ and out/files/
])
def test_download_traversal_refused(client, path):
    r = client.get(path)
    assert r.status_code in (400, 404)
    assert r.json()["code"] in ("VALIDATION_ERROR", "NOT_FOUND")


def test_download_traversal_in_name_is_400(client):
    r = client.get("/api/v1/download/00000000-0000-4000-8000-000000000000/..%2Flutra.db")
    assert r.status_code == 400


def test_auth_required_and_bad_token(server, samples):
    with server.client(token=None) as anon:
        r = anon.post("/api/v1/tools/image/resize", data={"settings": "{}"})
        assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED"
    with server.client(token="nope") as bad:
        assert bad.get("/api/auth/session").status_code == 401


def test_login_logout_session(server):
    token = server.login("admin", "admin")
    with server.client(token=token) as c:
        s = c.get("/api/auth/session").json()
        assert s["user"]["username"] == "admin" and s["user"]["role"] == "admin"
        assert c.post("/api/auth/logout").json() == {"ok": True}
        assert c.get("/api/auth/session").status_code == 401
    with server.client(token=None) as anon:
        r = anon.post("/api/auth/login", json={"username": "admin", "password": "wrong"})
        assert r.status_code == 401 and "token" not in r.text
        assert anon.post("/api/auth/login", content=b"not json").status_code == 400
