"""Durability: SIGKILL the server in the middle of a pipeline and a pipeline batch, start it again on the
same DATA_DIR, and check nothing is corrupted or lost."""

from __future__ import annotations

import json
import sqlite3
import threading
import time

import httpx
import pytest

from tests.api._workspace import image_size, pipeline_field
from tests.helpers import Server, wait_job

pytestmark = pytest.mark.e2e

RESTART_REASON = "The server restarted while this job was running."


def _job(client: httpx.Client, job_id: str) -> dict:
    r = client.get(f"/api/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return r.json()


def _batch_job_id(data_dir, deadline: float) -> str:
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{data_dir / 'lutra.db'}?mode=ro", uri=True, timeout=10) as db:
            row = db.execute("SELECT id FROM jobs WHERE kind = 'pipeline-batch'").fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    raise AssertionError("the batch job never appeared")


def test_kill_mid_pipeline_and_batch_then_restart(tmp_path, samples):
    data_dir = tmp_path / "data"
    env = {"SYNC_WAIT_MS": "0", "CONCURRENT_JOBS": "1"}
    first = Server(data_dir, env).start()
    photo = (samples / "photo.jpg").read_bytes()
    large = (samples / "large.jpg").read_bytes()
    batch_thread = None
    try:
        with first.client() as c:
            # things that finished before the crash: a library chain, a pipeline result, a saved pipeline
            lib = c.post("/api/v1/files/upload", files={"files": ("keep.jpg", photo)}).json()["files"][0]
            r = c.post("/api/v1/tools/image/resize", files={"file": ("keep.jpg", photo)},
                       data={"settings": json.dumps({"width": 100}), "fileId": lib["id"]})
            assert r.status_code == 202  # SYNC_WAIT_MS=0
            terminal = wait_job(c, r.json()["jobId"])
            assert terminal["status"] == "completed"
            assert terminal["result"]["savedFileId"]  # saved before the job reported completion
            versions_before = c.get(f"/api/v1/files/{lib['id']}").json()["versions"]
            assert len(versions_before) == 2
            done = c.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", photo)},
                          data=pipeline_field(("resize", {"width": 80}), ("convert", {"format": "png"})))
            finished = wait_job(c, done.json()["jobId"])
            assert finished["status"] == "completed"
            finished_bytes = c.get(finished["result"]["downloadUrl"]).content
            saved = c.post("/api/v1/pipeline/save", json={"name": "survivor", "steps": [
                {"toolId": "resize", "settings": {"width": 50}}]}).json()

            # a batch of big images through three steps: its request blocks, so it runs in a thread
            def run_batch():
                try:
                    with first.client() as bc:
                        bc.post("/api/v1/pipeline/batch",
                                files=[("files", (f"big{i}.jpg", large)) for i in range(6)],
                                data=pipeline_field(("rotate", {"angle": 90}), ("resize", {"width": 2000}),
                                                    ("compress", {"quality": 60})))
                except httpx.HTTPError:
                    pass  # the server dies under it

            batch_thread = threading.Thread(target=run_batch, daemon=True)
            batch_thread.start()
            deadline = time.monotonic() + 60
            batch_id = _batch_job_id(data_dir, deadline)

            # a long pipeline; kill as soon as it has made progress
            steps = [("rotate", {"angle": 90})] * 12
            long_id = c.post("/api/v1/pipeline/execute", files={"file": ("big.jpg", large)},
                             data=pipeline_field(*steps)).json()["jobId"]
            while time.monotonic() < deadline:
                state = _job(c, long_id)
                if state["status"] == "processing" and state["progress"] > 0:
                    break
                assert state["status"] in ("queued", "processing"), state
                time.sleep(0.05)
            else:
                raise AssertionError("the pipeline never made progress")
            assert _job(c, batch_id)["status"] in ("queued", "processing")
            assert "Step" in (state.get("message") or "")
        first.stop(kill=True)  # SIGKILL: no clean shutdown, no flush
        assert first.proc.returncode == -9
    finally:
        first.stop(kill=True)
        if batch_thread is not None:
            batch_thread.join(30)

    with sqlite3.connect(data_dir / "lutra.db", timeout=30) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # an upload cut short between moving its bytes and committing its row leaves an unreachable folder
    orphan = data_dir / "files" / "00000000-dead-4000-8000-000000000000"
    orphan.mkdir()
    (orphan / "half.jpg").write_bytes(photo)

    second = Server(data_dir, env).start()
    try:
        with second.client() as c:
            for job_id in (long_id, batch_id):
                state = _job(c, job_id)
                assert state["status"] == "failed", state
                assert state["error"] == RESTART_REASON
                assert state["code"] == "INTERNAL_ERROR"
            # finished results are still downloadable, byte for byte
            assert _job(c, finished["jobId"])["status"] == "completed"
            assert c.get(finished["result"]["downloadUrl"]).content == finished_bytes
            # the library is intact: both versions, their bytes, a thumbnail
            assert c.get(f"/api/v1/files/{lib['id']}").json()["versions"] == versions_before
            assert c.get(f"/api/v1/files/{lib['id']}/download").content == photo
            assert image_size(c.get(f"/api/v1/files/{versions_before[1]['id']}/download").content) == (100, 75)
            assert c.get(f"/api/v1/files/{lib['id']}/thumbnail").status_code == 200
            assert not orphan.exists()
            assert sorted(p.name for p in (data_dir / "files").iterdir()) == sorted(v["id"] for v in versions_before)
            assert saved["id"] in {p["id"] for p in c.get("/api/v1/pipeline/list").json()["pipelines"]}
            # and the restarted server works
            again = c.post("/api/v1/pipeline/execute", files={"file": ("p.jpg", photo)},
                           data={"pipeline": json.dumps({"pipelineId": saved["id"]})})
            assert again.status_code in (200, 202), again.text
            result = wait_job(c, again.json()["jobId"])
            assert result["status"] == "completed"
            assert image_size(c.get(result["result"]["downloadUrl"]).content) == (50, 38)
    finally:
        second.stop()
