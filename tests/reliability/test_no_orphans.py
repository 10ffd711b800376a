"""No orphans: when `lutra serve` stops in the middle of a long convert-video (SIGTERM, or SIGKILL as
in a crash), every program it started (ffmpeg, its sandbox, the worker processes) is gone within 5 s,
not re-parented to PID 1."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from actors import sandbox
from tests.helpers import Server, settings_field, wait_for


def _name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _encoding(pid: int) -> bool:
    """The job's own ffmpeg (writing long.webm), not the short ones the server runs at start to probe
    the encoders: stopping the server while only those ran proved nothing."""
    try:
        return _name(pid) == "ffmpeg" and b"long.webm" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.fixture(scope="module")
def long_video(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("orphans") / "long.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=120",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


@pytest.mark.parametrize("sandboxed", ["true", "false"])
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_stopped_server_leaves_no_program_behind(tmp_path, long_video, sandboxed, how):
    """SIGTERM: the clean stop. SIGKILL (or a crash): no cleanup code runs, the children must still go."""
    server = Server(tmp_path / "data", {"SANDBOX": sandboxed}).start()
    try:
        with server.client() as client, long_video.open("rb") as fh:
            r = client.post("/api/v1/tools/video/convert-video", files={"file": ("long.mp4", fh, "video/mp4")},
                            data=settings_field({"format": "webm", "quality": "high"}))
            assert r.status_code in (200, 202), r.text
        ffmpeg = wait_for(lambda: [p for p in sandbox.descendants(server.proc.pid) if _encoding(p)], 60,
                          "the job's ffmpeg to start")
        everything = sandbox.descendants(server.proc.pid)
        assert set(ffmpeg) <= set(everything)
        if sandboxed == "true":  # in its sandbox: bwrap between the server and ffmpeg
            assert any(_name(p) == "bwrap" for p in everything)
        server.proc.send_signal(how)
        server.proc.wait(15)
        wait_for(lambda: not any(sandbox.running(p) for p in everything), 5, "every child of the server to be gone")
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        for pid in sandbox.descendants(os.getpid()):
            if _name(pid) == "ffmpeg":
                os.kill(pid, signal.SIGKILL)
