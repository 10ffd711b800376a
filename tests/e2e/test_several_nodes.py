"""Several nodes on loopback as one service: one PostgreSQL (a throwaway cluster), one storage root.

A takes requests only (ROLE=web), B only runs jobs (ROLE=worker), C does both; a fourth node joins later.
Every node runs one image job at a time, so that work spreads and a node can be caught mid-batch.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import zipfile

import httpx
import pytest
import pyvips
from sqlalchemy import create_engine, text

from actors.store.actor import normalise_url
from tests.api._workspace import image_size
from tests.helpers import Server, wait_for, wait_job

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.slow]

LEASE_S = 3


class Nodes:
    def __init__(self, url: str, tmp) -> None:
        self.url = url
        self.storage = tmp / "storage"
        self.tmp = tmp
        self.engine = create_engine(normalise_url(url))
        self.started: dict[str, Server] = {}

    def start(self, name: str, role: str, **env: str) -> Server:
        srv = Server(self.tmp / f"node-{name}", {
            "DATABASE_URL": self.url, "STORAGE_ROOT": str(self.storage), "ROLE": role, "NODE_NAME": name,
            "CAPACITIES": "image=1", "LEASE_S": str(LEASE_S), "HEARTBEAT_S": "0.5", "SYNC_WAIT_MS": "0",
            **{k.upper(): v for k, v in env.items()}}).start()
        self.started[name] = srv
        return srv

    def rows(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def ran_on(self, job_ids) -> dict[str, str]:
        """job id -> the name of the node that ran (or runs) it."""
        rows = self.rows("SELECT id, node_id FROM job_queue WHERE id = ANY(:ids) AND node_id IS NOT NULL",
                         ids=list(job_ids))
        return {r.id: r.node_id.split("/")[0] for r in rows}


@pytest.fixture(scope="module")
def nodes(postgres, tmp_path_factory):
    n = Nodes(postgres.create_database(), tmp_path_factory.mktemp("nodes"))
    n.start("A", "web")
    n.start("B", "worker")
    n.start("C", "all")
    yield n
    for srv in n.started.values():
        srv.stop()
    n.engine.dispose()


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> bytes:
    """A noisy 1500x1000 JPEG: sharpening it takes a noticeable moment, so jobs overlap."""
    bands = [pyvips.Image.gaussnoise(1500, 1000, mean=128, sigma=40).cast("uchar") for _ in range(3)]
    return bands[0].bandjoin(bands[1:]).jpegsave_buffer(Q=85)


def submit(client: httpx.Client, data: bytes, name: str = "photo.jpg") -> str:
    r = client.post("/api/v1/tools/image/sharpening", files={"file": (name, data)})
    assert r.status_code == 202, r.text
    return r.json()["jobId"]


def test_a_worker_node_answers_only_its_health(nodes):
    b = nodes.started["B"]
    assert httpx.get(b.base_url + "/api/v1/health").status_code == 200
    r = httpx.post(b.base_url + "/api/auth/login", json={"username": "admin", "password": "admin"})
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"


def test_jobs_submitted_to_a_run_on_b_and_c(nodes, photo):
    a = nodes.started["A"]
    with a.client() as client:
        ids = [submit(client, photo) for _ in range(6)]
        finals = [wait_job(client, job_id) for job_id in ids]
    assert [f["status"] for f in finals] == ["completed"] * 6
    ran = nodes.ran_on(ids)
    assert set(ran.values()) == {"B", "C"}, ran  # A (web) ran none of them; both workers did


def test_progress_from_c_follows_a_job_on_b_and_a_serves_its_result(nodes, photo):
    a, c = nodes.started["A"], nodes.started["C"]
    with a.client() as client_a:
        ids = [submit(client_a, photo), submit(client_a, photo)]  # one each: every node runs one at a time
        on_b = wait_for(lambda: next((i for i, n in nodes.ran_on(ids).items() if n == "B"), None), 30,
                        "a job running on B")
        frames = []
        with c.client() as client_c, client_c.stream("GET", f"/api/v1/jobs/{on_b}/progress") as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    frames.append(json.loads(line[6:]))
                    if frames[-1]["status"] in ("completed", "failed", "canceled"):
                        break
        assert frames[-1]["status"] == "completed", frames
        result = frames[-1]["result"]
        assert result["jobId"] == on_b
        down = client_a.get(result["downloadUrl"])  # written by B on the shared storage, served by A
        assert down.status_code == 200 and len(down.content) == result["processedSize"]
        assert image_size(down.content) == (1500, 1000)
        assert client_a.get(f"/api/v1/jobs/{on_b}").json()["status"] == "completed"
        wait_job(client_a, ids[0]), wait_job(client_a, ids[1])


def test_a_killed_node_s_batch_items_finish_elsewhere_and_finished_ones_are_kept(nodes, photo):
    a, b = nodes.started["A"], nodes.started["B"]
    files = [("files", (f"p{i:02d}.jpg", photo)) for i in range(20)]
    outcome: dict = {}

    def post_batch() -> None:  # the batch answers with its ZIP when done: wait for it in a thread
        with a.client(timeout=300) as client:
            outcome["response"] = client.post("/api/v1/tools/image/sharpening/batch", files=files)

    poster = threading.Thread(target=post_batch)
    poster.start()
    parent = wait_for(lambda: nodes.rows("SELECT split_part(id, '.', 1) AS p FROM job_queue WHERE id LIKE '%.%'"
                                         " GROUP BY 1 HAVING count(*) = 20"), 60, "the batch's 20 items")[0].p

    def state():
        return {r.id: r for r in nodes.rows(
            "SELECT id, state, node_id, attempts, finished_at FROM job_queue WHERE id LIKE :p", p=f"{parent}.%")}

    def halfway():
        now = state()
        done = [r for r in now.values() if r.state == "done"]
        on_b = [r for r in now.values() if r.state == "running" and r.node_id.startswith("B/")]
        return now if len(done) >= 4 and on_b and len(done) <= 16 else None

    before = wait_for(halfway, 120, "B running an item with some done", interval=0.02)
    b.stop(kill=True)  # SIGKILL: no goodbye, its running item's lease just lapses
    finished = {i: r for i, r in before.items() if r.state == "done"}
    items = nodes.storage / "workspace" / parent / "items"
    kept = {}
    for job_id, _row in finished.items():
        index = job_id.rsplit(".", 1)[1]
        (out,) = (items / index).iterdir()
        kept[job_id] = (out.name, hashlib.sha256(out.read_bytes()).hexdigest(), out.stat().st_mtime_ns)

    poster.join(300)
    response = outcome["response"]
    assert response.status_code == 200, response.text[:500]
    after = state()
    assert all(r.state == "done" for r in after.values()) and len(after) == 20
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert len(archive.namelist()) == 20
        for job_id, (name, digest, mtime) in kept.items():
            # finished before the kill: never run again, its file the very bytes it was
            assert after[job_id].attempts == before[job_id].attempts == 1
            assert after[job_id].finished_at == before[job_id].finished_at
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
            index = job_id.rsplit(".", 1)[1]
            assert (items / index / name).stat().st_mtime_ns == mtime
    reclaimed = [i for i, r in before.items() if r.state == "running" and r.node_id.startswith("B/")]
    assert reclaimed and all(after[i].attempts == 2 and not after[i].node_id.startswith("B/") for i in reclaimed)
    with a.client() as client:
        frame = client.get(f"/api/v1/jobs/{parent}").json()
    assert frame["status"] == "completed"


def test_a_fourth_node_joins_and_takes_work(nodes, photo):
    a = nodes.started["A"]
    nodes.start("D", "worker", capacities="image=2")
    with a.client() as client:
        ids = [submit(client, photo) for _ in range(8)]
        assert all(wait_job(client, i)["status"] == "completed" for i in ids)
        assert "D" in set(nodes.ran_on(ids).values())
        health = client.get("/api/v1/admin/health").json()["cluster"]
    alive = {n["name"]: n for n in health["nodes"] if n["heartbeatAgeS"] < LEASE_S}
    running = {name for name, srv in nodes.started.items() if srv.proc.poll() is None}
    assert set(alive) == running  # a killed node's row stays, but its heartbeat ages
    assert alive["A"]["role"] == "web" and alive["D"]["capacities"]["image"] == 2
    assert {n["name"] for n in health["nodes"]} == set(nodes.started)
    assert health["queueDepth"].get("image", {"queued": 0})["queued"] == 0
    # a clean stop takes the node out of the registry (and hands its running jobs back at once)
    nodes.started["D"].stop()
    assert "D" not in {r.name for r in nodes.rows("SELECT name FROM nodes")}


def test_a_settings_change_on_a_applies_on_c(nodes, photo):
    a, c = nodes.started["A"], nodes.started["C"]
    with a.client() as client_a, c.client() as client_c:
        assert client_a.put("/api/v1/settings", json={"disabledTools": ["sharpening"]}).status_code == 200
        changed = time.monotonic()
        # C polls nothing: only the NOTIFY from A's transaction can bring the change
        wait_for(lambda: client_c.get("/api/v1/settings").json()["settings"]["disabledTools"] == ["sharpening"],
                 10, "the change on C")
        print(f"settings change reached C after {1000 * (time.monotonic() - changed):.0f} ms")
        refused = client_c.post("/api/v1/tools/image/sharpening", files={"file": ("p.jpg", photo)})
        assert refused.status_code == 403 and refused.json()["code"] == "TOOL_DISABLED"
        client_a.put("/api/v1/settings", json={"disabledTools": []})
