"""End to end: start the server the way the README does (`./run serve`, here with the setup already
done) and drive it over HTTP: health, login with admin/admin, a resize, the download."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import httpx
import pyvips

from tests.helpers import ROOT, free_port


def test_run_serve_end_to_end(tmp_path, samples):
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "warning"}
    proc = subprocess.Popen([str(ROOT / "run"), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # the setup step may install what is missing
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            try:
                if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        login = httpx.post(base + "/api/auth/login", json={"username": "admin", "password": "admin"}).json()
        assert login["user"]["mustChangePassword"] is True
        headers = {"Authorization": f"Bearer {login['token']}"}
        # first login: the default password must be changed before anything else
        blocked = httpx.post(base + "/api/v1/tools/image/resize", headers=headers)
        assert blocked.status_code == 403 and blocked.json()["code"] == "MUST_CHANGE_PASSWORD"
        changed = httpx.post(base + "/api/auth/change-password", headers=headers,
                             json={"currentPassword": "admin", "newPassword": "a-much-better-one"})
        assert changed.status_code == 200
        with open(samples / "photo.jpg", "rb") as fh:
            r = httpx.post(base + "/api/v1/tools/image/resize", headers=headers, files={"file": ("photo.jpg", fh)},
                           data={"settings": json.dumps({"width": 100})}, timeout=60)
        assert r.status_code == 200, r.text
        image = pyvips.Image.new_from_buffer(httpx.get(base + r.json()["downloadUrl"]).content, "")
        assert (image.width, image.height) == (100, 75)
        assert (tmp_path / "data" / "lutra.db").exists()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
