"""Server-wide settings over HTTP: upload and pixel limits, streaming memory, auth off, restart."""

from __future__ import annotations

import psutil
import pytest

from tests.helpers import Server, settings_field


@pytest.fixture(scope="module")
def small_limits(make_server):
    return make_server(max_upload_size_mb="1", max_megapixels="1", max_batch_size="2")


def test_upload_over_limit_is_413_from_content_length(small_limits, samples):
    with small_limits.client() as c:
        r = c.post("/api/v1/tools/image/resize", files={"file": ("big.jpg", b"\xff\xd8\xff" + b"0" * (3 << 20))},
                   data=settings_field({"width": 10}))
        assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
        assert c.get("/api/v1/health").status_code == 200


def test_upload_over_limit_without_length_is_413(small_limits):
    boundary = "lutraboundary"

    def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n"
               "Content-Type: image/jpeg\r\n\r\n").encode()
        for _ in range(40):
            yield b"\x00" * (128 << 10)
        yield f"\r\n--{boundary}--\r\n".encode()

    with small_limits.client() as c:
        r = c.post("/api/v1/tools/image/resize", content=body(),
                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        assert r.status_code == 413


def test_megapixel_limit_over_http(small_limits, samples):
    with small_limits.client() as c, open(samples / "large.jpg", "rb") as fh:
        r = c.post("/api/v1/tools/image/resize", files={"file": ("l.jpg", fh)}, data=settings_field({"width": 10}))
    assert r.status_code == 413 and "MP" in r.json()["error"]


def test_batch_size_limit(small_limits, samples):
    data = (samples / "small.png").read_bytes()
    with small_limits.client() as c:
        r = c.post("/api/v1/tools/image/resize/batch", files=[("files", (f"{i}.png", data)) for i in range(3)],
                   data=settings_field({"width": 10}))
    assert r.status_code == 400 and "at most 2" in r.json()["error"]


def test_500mb_upload_streams_to_disk_with_flat_memory(server):
    """A 500 MB body never sits in memory: the server's RSS grows far less than the upload."""
    proc = psutil.Process(server.proc.pid)
    before = proc.memory_info().rss
    boundary = "lutrabig"
    chunk = b"\x00" * (1 << 20)

    def body():
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"settings\"\r\n\r\n"
               '{"width": 10}\r\n').encode()
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"zero.bin\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n").encode()
        for _ in range(500):
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    with server.client(timeout=300) as c:
        r = c.post("/api/v1/tools/image/resize", content=body(),
                   headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 415  # zeros are not an image: refused after streaming
    grown = proc.memory_info().rss - before
    assert grown < 100 * 1024 * 1024, f"RSS grew by {grown / 1e6:.0f} MB"


def test_auth_disabled_is_anonymous_admin(make_server, samples):
    srv = make_server(auth_enabled="false")
    with srv.client(token=None) as c:
        assert c.get("/api/v1/config/auth").json() == {"authEnabled": False}
        assert c.get("/api/auth/session").json()["user"]["role"] == "admin"
        with open(samples / "photo.png", "rb") as fh:
            r = c.post("/api/v1/tools/image/resize", files={"file": ("p.png", fh)}, data=settings_field({"width": 9}))
        assert r.status_code == 200


def test_must_change_password_blocks_until_changed(make_server):
    srv = make_server(skip_must_change_password="false")
    with srv.client() as c:
        assert c.get("/api/auth/session").json()["user"]["mustChangePassword"] is True
        r = c.get("/api/v1/jobs/00000000-0000-4000-8000-000000000000")
        assert r.status_code == 403 and r.json()["code"] == "MUST_CHANGE_PASSWORD"
        bad = c.post("/api/auth/change-password", json={"currentPassword": "nope", "newPassword": "n3w-Passw0rd"})
        assert bad.status_code in (400, 401)
        ok = c.post("/api/auth/change-password", json={"currentPassword": "admin", "newPassword": "n3w-Passw0rd"})
        assert ok.json() == {"ok": True}
        assert c.get("/api/v1/jobs/00000000-0000-4000-8000-000000000000").status_code == 404


def test_results_survive_a_restart(tmp_path, samples):
    first = Server(tmp_path / "data").start()
    try:
        with first.client() as c, open(samples / "photo.jpg", "rb") as fh:
            body = c.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", fh)},
                          data=settings_field({"width": 33})).json()
    finally:
        first.stop()
    second = Server(tmp_path / "data").start()
    try:
        with second.client() as c:
            state = c.get(f"/api/v1/jobs/{body['jobId']}").json()
            assert state["status"] == "completed" and state["result"]["downloadUrl"] == body["downloadUrl"]
            assert c.get(body["downloadUrl"]).status_code == 200
    finally:
        second.stop()
