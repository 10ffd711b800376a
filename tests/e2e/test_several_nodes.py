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


def _post_in_thread(srv, path: str, files, outcome: dict, **data) -> threading.Thread:
    """A batch answers with its ZIP when done: posted from a thread, whose node may die meanwhile."""

    def post() -> None:
        try:
            with srv.client(timeout=300) as client:
                outcome["response"] = client.post(path, files=files, data=data)
        except httpx.HTTPError as err:  # the node was killed under the request
            outcome["error"] = err

    thread = threading.Thread(target=post)
    thread.start()
    return thread


def _follow_over_sse(client: httpx.Client, job_id: str) -> list[dict]:
    frames = []
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress") as stream:
        assert stream.status_code == 200
        for line in stream.iter_lines():
            if line.startswith("data: "):
                frames.append(json.loads(line[6:]))
                if frames[-1]["status"] in ("completed", "failed", "canceled"):
                    break
    return frames


def _parents(nodes: Nodes) -> set[str]:
    return {r.p for r in nodes.rows("SELECT DISTINCT split_part(id, '.', 1) AS p FROM job_queue WHERE id LIKE '%.%'")}


def _parent_of_items(nodes: Nodes, count: int, before: set[str], pattern: str = "%.%") -> str:
    """The new batch (not one of `before`) once `count` of its items (rows like `pattern`) are queued."""
    rows = wait_for(lambda: [r for r in nodes.rows(
        "SELECT split_part(id, '.', 1) AS p FROM job_queue WHERE id LIKE :pattern GROUP BY 1 HAVING count(*) >= :n",
        pattern=pattern, n=count) if r.p not in before], 60, f"a batch's {count} items")
    return rows[0].p


def test_the_killed_coordinator_s_batch_completes_elsewhere_and_finished_files_are_kept(nodes, photo):
    """E takes the batch request, so E coordinates it (and runs some items); E is killed halfway. Another
    node takes the coordinator's lapsed lease, keeps what finished, waits for the rest and completes it."""
    a = nodes.started["A"]
    e = nodes.start("E", "all")
    files = [("files", (f"p{i:02d}.jpg", photo)) for i in range(20)]
    outcome: dict = {}
    known = _parents(nodes)
    poster = _post_in_thread(e, "/api/v1/tools/image/sharpening/batch", files, outcome)
    parent = _parent_of_items(nodes, 20, known)

    def state():
        return {r.id: r for r in nodes.rows(
            "SELECT id, state, node_id, attempts, finished_at FROM job_queue WHERE id LIKE :p", p=f"{parent}.%")}

    def halfway():
        now = state()
        done = [r for r in now.values() if r.state == "done"]
        on_e = [r for r in now.values() if r.state == "running" and r.node_id.startswith("E/")]
        return now if 4 <= len(done) <= 14 and on_e else None

    before = wait_for(halfway, 120, "E running an item with some done", interval=0.02)
    e.stop(kill=True)  # SIGKILL: no goodbye; its coordinator's lease and its running item's lease lapse
    poster.join(60)
    assert "response" not in outcome  # the request died with its node
    finished = {i: r for i, r in before.items() if r.state == "done"}
    items = nodes.storage / "workspace" / parent / "items"
    kept = {}
    for job_id in finished:
        outs = list((items / job_id.rsplit(".", 1)[1] / "out").iterdir())
        assert len(outs) == 1, (outs, nodes.rows("SELECT outcome, node_id FROM job_queue WHERE id = :id", id=job_id))
        (out,) = outs
        kept[job_id] = (out.name, hashlib.sha256(out.read_bytes()).hexdigest(), out.stat().st_mtime_ns)

    with a.client() as client:
        frames = _follow_over_sse(client, parent)  # from A, which neither coordinates nor runs it
        final = frames[-1]
        assert final["status"] == "completed", frames[-3:]
        assert final["totalFiles"] == 20 and final["completedFiles"] == 20 and final["failedFiles"] == 0, final["errors"]
        counts = [f["completedFiles"] for f in frames if "completedFiles" in f]
        assert counts == sorted(counts) and len(set(counts)) > 1  # progress went on while A streamed it
        down = client.get(final["result"]["downloadUrl"])
        assert down.status_code == 200 and len(down.content) == final["result"]["processedSize"]
    coordinator = nodes.rows("SELECT state, node_id, attempts FROM coordinators WHERE id = :id", id=parent)[0]
    assert coordinator.state == "done" and coordinator.attempts == 2 and not coordinator.node_id.startswith("E/")
    after = state()
    assert len(after) == 20 and all(r.state == "done" for r in after.values())
    recorded = nodes.rows("SELECT idx FROM coordinator_items WHERE coordinator_id = :id", id=parent)
    assert sorted(r.idx for r in recorded) == list(range(20))
    with zipfile.ZipFile(io.BytesIO(down.content)) as archive:
        assert len(archive.namelist()) == 20
        assert final["result"]["fileResults"] == {str(i): f"p{i:02d}.jpg" for i in range(20)}
        for job_id, (name, digest, mtime) in kept.items():
            # finished before the kill: never run again, its file the very bytes it was
            assert after[job_id].attempts == before[job_id].attempts == 1
            assert after[job_id].finished_at == before[job_id].finished_at
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
            assert (items / job_id.rsplit(".", 1)[1] / "out" / name).stat().st_mtime_ns == mtime
        for name in archive.namelist():
            assert image_size(archive.read(name)) == (1500, 1000)
    reclaimed = [i for i, r in before.items() if r.state == "running" and r.node_id.startswith("E/")]
    assert reclaimed and all(after[i].attempts == 2 and not after[i].node_id.startswith("E/") for i in reclaimed)
    # a job completes once: a row left "done" keeps the node and attempt that completed it, and every item
    # that was not running on E when it died ran exactly once
    assert all(r.attempts == 1 for i, r in after.items() if i not in reclaimed)


def test_the_killed_coordinator_s_pipeline_batch_completes_elsewhere(nodes, photo):
    """The same coordinator mechanism for a pipeline batch: finished files (and finished steps) are kept."""
    a = nodes.started["A"]
    f = nodes.start("F", "all")
    files = [("files", (f"q{i}.jpg", photo)) for i in range(8)]
    pipeline = json.dumps({"steps": [{"toolId": "sharpening"}, {"toolId": "resize", "settings": {"width": 300}}]})
    outcome: dict = {}
    known = _parents(nodes)
    poster = _post_in_thread(f, "/api/v1/pipeline/batch", files, outcome, pipeline=pipeline)
    parent = _parent_of_items(nodes, 1, known, "%.%.s1")

    def recorded():
        return {r.idx: r for r in nodes.rows(
            "SELECT idx, outcome, finished_at FROM coordinator_items WHERE coordinator_id = :id", id=parent)}

    before = wait_for(lambda: (r := recorded()) and 2 <= len(r) <= 6 and r, 120, "some files through the pipeline",
                      interval=0.02)
    steps_before = {r.id: r for r in nodes.rows(
        "SELECT id, state, attempts, finished_at FROM job_queue WHERE id LIKE :p", p=f"{parent}.%")}
    job_dir = nodes.storage / "workspace" / parent
    kept = {idx: {name: hashlib.sha256((job_dir / rel).read_bytes()).hexdigest() for rel, name in r.outcome["files"]}
            for idx, r in before.items()}
    f.stop(kill=True)
    poster.join(60)
    assert "response" not in outcome

    with a.client() as client:
        final = wait_job(client, parent, timeout=240)
        assert final["status"] == "completed", final
        assert final["totalFiles"] == 8 and final["completedFiles"] == 8
        down = client.get(final["result"]["downloadUrl"])
        assert down.status_code == 200
    after = recorded()
    assert sorted(after) == list(range(8))
    for idx, r in before.items():
        assert after[idx].finished_at == r.finished_at  # recorded once, never again
    steps_after = {r.id: r for r in nodes.rows(
        "SELECT id, state, attempts, finished_at FROM job_queue WHERE id LIKE :p", p=f"{parent}.%")}
    for job_id, r in steps_before.items():
        if r.state == "done":  # a step that finished before the kill never ran again
            assert steps_after[job_id].attempts == r.attempts and steps_after[job_id].finished_at == r.finished_at
    assert all(r.state == "done" for r in steps_after.values())
    with zipfile.ZipFile(io.BytesIO(down.content)) as archive:
        assert sorted(final["result"]["fileResults"]) == [str(i) for i in range(8)]
        for idx, files_kept in kept.items():
            for name, digest in files_kept.items():
                assert hashlib.sha256(archive.read(final["result"]["fileResults"][str(idx)])).hexdigest() == digest, name
        for name in archive.namelist():
            assert image_size(archive.read(name))[0] == 300


def test_the_killed_coordinator_s_pipeline_resumes_after_its_last_finished_step(nodes, photo):
    a = nodes.started["A"]
    g = nodes.start("G", "all")
    pipeline = json.dumps({"steps": [{"toolId": "sharpening"}] * 5})
    with g.client() as client:
        r = client.post("/api/v1/pipeline/execute", files={"file": ("r.jpg", photo)}, data={"pipeline": pipeline})
    assert r.status_code == 202, r.text  # SYNC_WAIT_MS=0
    parent = r.json()["jobId"]

    def steps():
        return {r.id: r for r in nodes.rows(
            "SELECT id, state, attempts, finished_at FROM job_queue WHERE id LIKE :p", p=f"{parent}.%")}

    before = wait_for(lambda: (now := steps()) and now.get(f"{parent}.s2") and now[f"{parent}.s2"].state == "done"
                      and now, 120, "two steps done", interval=0.02)
    g.stop(kill=True)
    with a.client() as client:
        final = wait_job(client, parent, timeout=240)
        assert final["status"] == "completed", final
        assert final["result"]["stepsCompleted"] == 5 and [s["toolId"] for s in final["result"]["steps"]] == \
            ["sharpening"] * 5
        down = client.get(final["result"]["downloadUrl"])
        assert down.status_code == 200 and image_size(down.content) == (1500, 1000)
    after = steps()
    assert sorted(after) == [f"{parent}.s{n}" for n in range(1, 6)] and all(r.state == "done" for r in after.values())
    for job_id, r in before.items():
        if r.state == "done":  # finished before the kill: never run again
            assert after[job_id].attempts == r.attempts and after[job_id].finished_at == r.finished_at
    assert nodes.rows("SELECT attempts FROM coordinators WHERE id = :id", id=parent)[0].attempts == 2


def test_a_batch_canceled_on_another_node_stops_where_it_runs(nodes, photo):
    a, c = nodes.started["A"], nodes.started["C"]
    files = [("files", (f"c{i:02d}.jpg", photo)) for i in range(12)]
    outcome: dict = {}
    known = _parents(nodes)
    poster = _post_in_thread(c, "/api/v1/tools/image/sharpening/batch", files, outcome)  # C coordinates it
    parent = _parent_of_items(nodes, 12, known)
    with a.client() as client:
        wait_for(lambda: client.get(f"/api/v1/jobs/{parent}").json()["status"] == "processing", 60, "processing")
        assert client.post(f"/api/v1/jobs/{parent}/cancel").json() == {"canceled": True}
        assert client.get(f"/api/v1/jobs/{parent}").json()["status"] == "canceled"
    poster.join(120)
    assert outcome["response"].status_code == 409 and outcome["response"].json()["code"] == "CANCELED"
    # C canceled the items still queued or running; none is left waiting, and no node resumes the batch
    wait_for(lambda: not nodes.rows("SELECT id FROM job_queue WHERE id LIKE :p AND state <> 'done'",
                                    p=f"{parent}.%"), 60, "every item ended")
    wait_for(lambda: nodes.rows("SELECT state, attempts FROM coordinators WHERE id = :id", id=parent) == [("done", 1)],
             10, "the coordinator closed")
    canceled = nodes.rows("SELECT id FROM job_queue WHERE id LIKE :p AND outcome->>'code' = 'CANCELED'",
                          p=f"{parent}.%")
    assert canceled  # the cancel reached the items, not only the batch's row
    with c.client() as client:
        assert client.get(f"/api/v1/jobs/{parent}").json()["status"] == "canceled"


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
