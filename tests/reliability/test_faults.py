"""Faults: processes killed mid-job, the server SIGKILLed during a batch, a full queue, slow and idle clients,
a full disk. Each time the affected work ends cleanly, the resource is replaced and the next job succeeds.

(SIGKILL during a pipeline and a pipeline batch, with database and library checks, is in
tests/e2e/test_durability.py; here: a plain tool batch, and that no child process outlives the server.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest
import pyvips

from tests.helpers import ROOT, Server, client_connections, settings_field, wait_for, wait_job

pytestmark = pytest.mark.e2e

RESTART_REASON = "The server restarted while this job was running."


# ---- helpers ------------------------------------------------------------------------------------------------
def noise_png(path: Path, size: int) -> Path:
    """Noise defeats every shortcut: vectorize has thousands of shapes to trace (seconds of CPU)."""
    bands = [pyvips.Image.gaussnoise(size, size, mean=128, sigma=60).cast("uchar") for _ in range(3)]
    bands[0].bandjoin(bands[1:]).copy(interpretation="srgb").pngsave(str(path))
    return path


def small_png(path: Path) -> Path:
    pyvips.Image.black(64, 48).add(90).cast("uchar").bandjoin([pyvips.Image.black(64, 48).cast("uchar")] * 2) \
        .copy(interpretation="srgb").pngsave(str(path))
    return path


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _cpu(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


def busiest(procs: list[psutil.Process], window: float = 0.6) -> psutil.Process | None:
    before = {p.pid: _cpu(p) for p in procs}
    time.sleep(window)
    deltas = [(_cpu(p) - before[p.pid], p) for p in procs]
    delta, proc = max(deltas, key=lambda d: d[0], default=(0.0, None))
    return proc if delta > 0.05 else None


def job_state(client: httpx.Client, job_id: str) -> dict:
    r = client.get(f"/api/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return r.json()


def assert_clean_failure(frame: dict, *codes: str) -> None:
    assert frame["status"] == "failed", frame
    assert frame["code"] in codes, frame
    assert frame["error"] and "/" not in frame["error"] and "Traceback" not in frame["error"], frame


def post_tool(client: httpx.Client, route: str, path: Path, settings: dict | None = None) -> httpx.Response:
    with open(path, "rb") as fh:
        return client.post(f"/api/v1/tools/{route}", files={"file": (path.name, fh)},
                           data=settings_field(settings or {}))


def run_to_end(client: httpx.Client, route: str, path: Path, settings: dict | None = None) -> dict:
    r = post_tool(client, route, path, settings)
    assert r.status_code in (200, 202), r.text
    if r.status_code == 200:
        return {"status": "completed", "result": r.json()}
    return wait_job(client, r.json()["jobId"])


# ---- a worker process ---------------------------------------------------------------------------------------
def test_killed_worker_fails_its_job_and_is_replaced(make_server, tmp_path):
    srv = make_server(concurrent_jobs=1, sync_wait_ms=0)
    noise = noise_png(tmp_path / "noise.png", 700)
    with srv.client() as c:
        job_id = post_tool(c, "image/vectorize", noise).json()["jobId"]
        wait_for(lambda: job_state(c, job_id)["status"] == "processing", 60, "the job to start")
        workers = [p for p in descendants(srv.proc.pid) if "python" in p.name().lower()
                   and "office" not in " ".join(p.cmdline())]
        victim = wait_for(lambda: busiest(workers), 30, "a busy worker process")
        victim.send_signal(signal.SIGKILL)
        frame = wait_job(c, job_id)
        assert_clean_failure(frame, "PROCESSING_FAILED")
        assert "worker" in frame["error"]
        # the pool spawns a new worker: the same tool, and another, work again
        done = run_to_end(c, "image/resize", small_png(tmp_path / "s.png"), {"width": 32})
        assert done["status"] == "completed", done
        again = run_to_end(c, "image/vectorize", small_png(tmp_path / "v.png"))
        assert again["status"] == "completed", again
        assert victim.pid not in {p.pid for p in descendants(srv.proc.pid)}
        assert c.get("/api/v1/health").status_code == 200


# ---- an ffmpeg child ----------------------------------------------------------------------------------------
def test_killed_ffmpeg_fails_its_job_and_the_next_encode_works(make_server, tmp_path):
    srv = make_server(sync_wait_ms=0)
    clip = tmp_path / "long.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=30", "-c:v",
                    "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)], check=True, timeout=120)
    short = tmp_path / "short.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(clip), "-t", "1", "-c", "copy", str(short)], check=True,
                   timeout=60)
    with srv.client() as c:
        job_id = post_tool(c, "video/compress-video", clip, {"quality": "light"}).json()["jobId"]

        def encoding_ffmpeg():
            for p in descendants(srv.proc.pid):
                with contextlib.suppress(psutil.Error):
                    if p.name() == "ffmpeg" and job_id in " ".join(p.cmdline()) and _cpu(p) > 0.2:
                        return p
            return None

        victim = wait_for(encoding_ffmpeg, 60, "the job's ffmpeg to be encoding")
        victim.send_signal(signal.SIGKILL)
        frame = wait_job(c, job_id)
        assert_clean_failure(frame, "PROCESSING_FAILED")
        assert not [p for p in descendants(srv.proc.pid) if p.name() == "ffmpeg"]
        done = run_to_end(c, "video/compress-video", short, {"quality": "light"})
        assert done["status"] == "completed", done
        out = c.get(done["result"]["downloadUrl"])
        assert out.status_code == 200 and out.content[4:8] == b"ftyp"


# ---- the LibreOffice listener -------------------------------------------------------------------------------
def _soffice(pid: int) -> psutil.Process | None:
    for p in descendants(pid):
        with contextlib.suppress(psutil.Error):
            if p.name().startswith("soffice"):
                return p
    return None


def _docx(path: Path, paragraphs: int) -> Path:
    import docx

    doc = docx.Document()
    for i in range(paragraphs):
        doc.add_paragraph(f"Paragraph {i}: " + "lorem ipsum dolor sit amet " * 12)
    doc.save(str(path))
    return path


def test_killed_libreoffice_is_replaced_and_the_next_conversion_works(make_server, tmp_path):
    import shutil

    if not shutil.which("soffice"):
        pytest.skip("LibreOffice is not installed: run ./run setup (deps/documents.apt)")
    srv = make_server(sync_wait_ms=0, office_warm="true")
    big = _docx(tmp_path / "big.docx", 12000)  # ~12 s of layout: the kill lands mid-conversion
    small = _docx(tmp_path / "small.docx", 3)
    first = wait_for(lambda: _soffice(srv.proc.pid), 120, "the warm LibreOffice listener")
    with srv.client() as c:
        assert run_to_end(c, "pdf/word-to-pdf", small)["status"] == "completed"
        job_id = post_tool(c, "pdf/word-to-pdf", big).json()["jobId"]
        wait_for(lambda: job_state(c, job_id)["status"] == "processing", 60, "the conversion to start")
        before = _cpu(first)
        wait_for(lambda: _cpu(first) > before + 0.3, 60, "LibreOffice to be converting")
        first.send_signal(signal.SIGKILL)
        frame = wait_job(c, job_id, timeout=300)
        # the affected job ends: failed with a clear error, or converted again on a fresh listener
        if frame["status"] == "failed":
            assert_clean_failure(frame, "PROCESSING_FAILED", "VALIDATION_ERROR", "TIMEOUT")
        else:
            assert frame["status"] == "completed", frame
        replacement = wait_for(lambda: (p := _soffice(srv.proc.pid)) is not None and p.pid != first.pid and p, 120,
                               "a new LibreOffice listener")
        done = run_to_end(c, "pdf/word-to-pdf", small)
        assert done["status"] == "completed", done
        pdf = c.get(done["result"]["downloadUrl"]).content
        assert pdf.startswith(b"%PDF-")
        assert replacement.is_running()


# ---- SIGKILL during a tool batch, then restart ----------------------------------------------------------------
def test_sigkill_during_a_batch_leaves_no_orphans_and_restarts_clean(tmp_path):
    data_dir = tmp_path / "data"
    env = {"CONCURRENT_JOBS": "1"}
    noise = noise_png(tmp_path / "noise.png", 500).read_bytes()
    first = Server(data_dir, env).start()
    thread = None
    try:
        def run_batch():
            with contextlib.suppress(httpx.HTTPError), first.client() as bc:
                bc.post("/api/v1/tools/image/vectorize/batch", files=[("files", (f"n{i}.png", noise)) for i in range(6)])

        thread = threading.Thread(target=run_batch, daemon=True)
        thread.start()

        def running_batch():
            with sqlite3.connect(f"file:{data_dir / 'lutra.db'}?mode=ro", uri=True, timeout=10) as db:
                row = db.execute("SELECT id FROM jobs WHERE kind = 'batch'").fetchone()
            return row[0] if row else None

        batch_id = wait_for(running_batch, 60, "the batch job")
        procs = wait_for(lambda: [p for p in descendants(first.proc.pid) if _cpu(p) > 0.3] and
                         descendants(first.proc.pid), 60, "the batch to be working")
        first.stop(kill=True)
        assert first.proc.returncode == -signal.SIGKILL
    finally:
        first.stop(kill=True)
        if thread is not None:
            thread.join(30)
    # every worker, ffmpeg and LibreOffice process dies with the server (no orphans)
    wait_for(lambda: not [p for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 30,
             f"the server's children to exit: {[(p.pid, p.name()) for p in procs if p.is_running()]}")
    with sqlite3.connect(data_dir / "lutra.db", timeout=30) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    second = Server(data_dir, env).start()
    try:
        with second.client() as c:
            state = job_state(c, batch_id)
            assert state["status"] == "failed" and state["error"] == RESTART_REASON, state
            r = c.post("/api/v1/tools/image/resize/batch", files=[("files", (f"s{i}.png", small_png(
                tmp_path / f"s{i}.png").read_bytes())) for i in range(3)], data=settings_field({"width": 20}))
            assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text[:200]
    finally:
        second.stop()


# ---- the runtime itself -------------------------------------------------------------------------------------
BROKEN_RUNTIME = """
import sys
from pathlib import Path

import trio
from actors.supervisor import Supervisor

started_run = Supervisor.run

async def run_then_break(self, *, task_status=trio.TASK_STATUS_IGNORED):
    async with trio.open_nursery() as nursery:
        await nursery.start(started_run, self)
        task_status.started()
        while not Path(sys.argv[1]).exists():  # the test says when
            await trio.sleep(0.05)
        raise RuntimeError("a bug in the supervisor")

Supervisor.run = run_then_break
from service.cli import main
main(["serve"])
"""


def test_the_process_exits_non_zero_when_the_runtime_dies(tmp_path):
    """The supervisor (not an actor: those are restarted) fails while the server serves: the process must
    not serve on without its runtime, but exit non-zero so that systemd restarts it."""
    srv = Server(tmp_path / "data")
    log_file = open(srv.log_path, "ab")  # noqa: SIM115
    trigger = tmp_path / "break-now"
    proc = subprocess.Popen([sys.executable, "-c", BROKEN_RUNTIME, str(trigger)], env=srv.env, cwd=ROOT,
                            stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: _healthy(srv) or proc.poll() is not None, timeout=60, what="the server to start")
        assert proc.poll() is None, srv.log_path.read_text()[-2000:]  # it serves
        trigger.touch()
        assert proc.wait(timeout=60) == 70, srv.log_path.read_text()[-2000:]
        assert "the runtime stopped unexpectedly" in srv.log_path.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log_file.close()


def _healthy(srv: Server) -> bool:
    try:
        return httpx.get(srv.base_url + "/api/v1/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


# ---- backpressure -------------------------------------------------------------------------------------------
def test_a_full_queue_answers_503_busy_with_retry_after(make_server, tmp_path):
    srv = make_server(concurrent_jobs=1, queue_size=2, sync_wait_ms=0)
    noise = noise_png(tmp_path / "noise.png", 400)
    accepted, busy = [], []
    with srv.client() as c:
        for _ in range(12):
            r = post_tool(c, "image/vectorize", noise)
            if r.status_code == 202:
                accepted.append(r.json()["jobId"])
            else:
                assert r.status_code == 503, r.text
                assert r.json()["code"] == "BUSY" and int(r.headers["Retry-After"]) > 0
                busy.append(r)
        # one running, one taken from the mailbox waiting for a slot, QUEUE_SIZE waiting in it
        assert busy and 1 <= len(accepted) <= 1 + 1 + 2, (len(accepted), len(busy))
        for job_id in accepted:
            c.post(f"/api/v1/jobs/{job_id}/cancel")
        for job_id in accepted:
            assert wait_job(c, job_id)["status"] in ("canceled", "completed", "failed")
        # the queue drained: new work is accepted again
        done = run_to_end(c, "image/resize", small_png(tmp_path / "s.png"), {"width": 16})
        assert done["status"] == "completed", done


# ---- slow and idle clients ----------------------------------------------------------------------------------
def _connect(srv: Server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    return s


def _closed_by_server(s: socket.socket, timeout: float) -> bytes | None:
    """Read until the server closes; the bytes it sent first (b'' if none), None if it never closed."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk
    except TimeoutError:
        return None
    except ConnectionResetError:
        return data


def _read_response(s: socket.socket, timeout: float) -> bytes:
    """One whole HTTP/1.1 response (headers and a Content-Length body) from a raw socket."""
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_slow_and_idle_clients_do_not_stop_others(make_server, tmp_path):
    srv = make_server(keep_alive_timeout_s=3, read_timeout_s=3)
    png = small_png(tmp_path / "s.png")
    proc = psutil.Process(srv.proc.pid)
    boundary = "slowclient"
    head = (f"POST /api/v1/tools/image/resize HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {srv.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 200000\r\n\r\n").encode()
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()
    idle = [_connect(srv) for _ in range(40)]
    partial_headers = [_connect(srv) for _ in range(20)]
    for s in partial_headers:
        s.sendall(head[:40])
    stalled = [_connect(srv) for _ in range(10)]
    for s in stalled:
        s.sendall(head + part + b"\x89PNG")
    stop = threading.Event()
    trickles = [_connect(srv) for _ in range(20)]

    def trickle():
        for s in trickles:
            s.sendall(head + part)
        while not stop.is_set():
            for s in trickles:
                with contextlib.suppress(OSError):
                    s.sendall(b"\x00")
            stop.wait(0.5)

    feeder = threading.Thread(target=trickle, daemon=True)
    feeder.start()
    try:
        # meanwhile, everyone else is served
        with srv.client(timeout=30) as c:
            for _ in range(5):
                assert c.get("/api/v1/health").status_code == 200
                r = post_tool(c, "image/resize", png, {"width": 20})
                assert r.status_code == 200, r.text
        # idle connections and half-sent headers are closed by the server (keep-alive timeout) ...
        for s in idle + partial_headers:
            assert _closed_by_server(s, 30) is not None, "an idle connection was never closed"
        # ... a body that stalls gets a 408 (READ_TIMEOUT_S), so its request holds nothing any more ...
        for s in stalled:
            answer = _read_response(s, 30)
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert b'"code":"TIMEOUT"' in answer.replace(b" ", b"")
        # ... and a body trickling byte by byte keeps its connection without holding anyone up
        with srv.client(timeout=30) as c:
            assert post_tool(c, "image/resize", png, {"width": 20}).status_code == 200
    finally:
        stop.set()
        feeder.join(5)
        for s in idle + partial_headers + stalled + trickles:
            s.close()
    wait_for(lambda: client_connections(proc.pid, srv.port) == 0, 30, "the server to close every client connection")
    assert srv.healthy()



def test_a_quiet_progress_stream_outlives_the_read_timeout(make_server, tmp_path):
    """The body read timeout must not cut responses whose client stays quiet (Hypercorn's read_timeout did:
    a progress stream, or a batch answered at the end, was dropped READ_TIMEOUT_S after the request)."""
    srv = make_server(read_timeout_s=2, sync_wait_ms=0, concurrent_jobs=1)
    noise = noise_png(tmp_path / "noise.png", 900)
    with srv.client() as c:
        job_id = post_tool(c, "image/vectorize", noise).json()["jobId"]
        started = time.monotonic()
        frame = wait_job(c, job_id, timeout=300)
        lasted = time.monotonic() - started
    assert frame["status"] == "completed", frame
    assert lasted > 2, "the job ended before the read timeout: make it longer to test anything"


# ---- disk full ----------------------------------------------------------------------------------------------
@pytest.fixture()
def small_disk(tmp_path):
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root: run this test as root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()[:200]}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(path: Path, leave_mb: float) -> None:
    """Grow `path` until the filesystem has about `leave_mb` MB free."""
    import shutil

    free = shutil.disk_usage(path.parent).free
    want = free - int(leave_mb * 1048576)
    with open(path, "ab") as fh:
        while want > 0:
            n = min(want, 1 << 20)
            try:
                fh.write(b"\0" * n)
                fh.flush()
            except OSError:
                break
            want -= n


def test_disk_full_is_503_or_507_and_service_resumes(small_disk, tmp_path):
    import shutil

    data_dir = small_disk / "data"
    srv = Server(data_dir, {"MIN_FREE_DISK_MB": "4", "SYNC_WAIT_MS": "20000"}).start()
    filler = small_disk / "filler"
    png = small_png(tmp_path / "s.png")
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(12 << 20))
    try:
        with srv.client(timeout=60) as c:
            assert post_tool(c, "image/resize", png, {"width": 10}).status_code == 200
            # 8 MB free (over the 4 MB guard): a 12 MB upload hits ENOSPC mid-write -> 507, not 500
            _fill(filler, 8)
            r = post_tool(c, "image/resize", big, {"width": 10})
            assert r.status_code == 507, r.text
            assert r.json()["code"] == "INSUFFICIENT_STORAGE"
            # what the failed upload wrote is gone again
            assert shutil.disk_usage(small_disk).free > 6 << 20
            # a tool whose output does not fit: a clean failure
            r = post_tool(c, "image/convert", noise_png(tmp_path / "n.png", 1500), {"format": "tiff"})
            assert r.status_code in (200, 422, 507), r.text
            if r.status_code != 200:
                assert r.json()["code"] in ("PROCESSING_FAILED", "INSUFFICIENT_STORAGE"), r.text
            # under the guard: new work is refused with 503 BUSY and Retry-After; reads still work
            _fill(filler, 2)
            r = post_tool(c, "image/resize", png, {"width": 10})
            assert r.status_code == 503 and r.json()["code"] == "BUSY", r.text
            assert int(r.headers["Retry-After"]) > 0
            assert c.get("/api/v1/health").status_code == 200
            assert c.get("/api/v1/auth/me").status_code in (200, 404)
            # completely full: still answers, and never with a 500
            _fill(filler, 0)
            r = post_tool(c, "image/resize", png, {"width": 10})
            assert r.status_code in (503, 507), r.text
        # the database is intact
        with sqlite3.connect(f"file:{data_dir / 'lutra.db'}?mode=ro", uri=True, timeout=30) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # space returns: service resumes without a restart
        filler.unlink()
        with srv.client(timeout=60) as c:
            r = post_tool(c, "image/resize", png, {"width": 10})
            assert r.status_code == 200, r.text
            assert c.get(r.json()["downloadUrl"]).status_code == 200
            login = httpx.post(srv.base_url + "/api/auth/login", json={"username": "admin", "password": "admin"})
            assert login.status_code == 200
        assert srv.proc.poll() is None
    finally:
        srv.stop()
    # and it restarts on the same DATA_DIR
    again = Server(data_dir, {"MIN_FREE_DISK_MB": "4"}).start()
    try:
        assert again.healthy()
    finally:
        again.stop()
