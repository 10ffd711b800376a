"""PostgreSQL going away under a running node: requests that need it get 503 BUSY (JSON, never a 500 or a
hang), finished jobs stay as they were, and the node serves again once the database is back, unrestarted."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.api._workspace import image_size
from tests.helpers import Server, wait_for
from tests.pg import PostgresCluster, pg_bindir

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]


@pytest.fixture()
def cluster():
    if pg_bindir() is None:
        pytest.skip("PostgreSQL is not installed (deps/pg.apt)")
    c = PostgresCluster().start()  # its own: this test stops it
    yield c
    c.stop()


def test_lost_database_gives_503_and_the_node_recovers(cluster, tmp_path, samples):
    srv = Server(tmp_path / "data", {"DATABASE_URL": cluster.create_database()}).start()
    try:
        with srv.client() as client:
            r = client.post("/api/v1/tools/image/resize", files={"file": ("p.jpg", (samples / "photo.jpg").read_bytes())},
                            data={"settings": json.dumps({"width": 64})})
            assert r.status_code == 200, r.text
            done = r.json()

            cluster.stop_server()
            login = httpx.post(srv.base_url + "/api/auth/login", json={"username": "admin", "password": "admin"},
                               timeout=60)
            assert login.status_code == 503 and login.json()["code"] == "BUSY", login.text
            assert "database" in login.json()["error"] and "psycopg" not in login.text
            health = client.get("/api/v1/admin/health", timeout=60)
            assert health.status_code == 503 and health.json()["database"]["status"] == "unreachable"

            cluster.start_server()
            # the pool's connections died with the server: each fails once (503) and is replaced
            wait_for(lambda: httpx.post(srv.base_url + "/api/auth/login", timeout=60,
                                        json={"username": "admin", "password": "admin"}).status_code == 200,
                     60, "logins to work again")
            job = client.get(f"/api/v1/jobs/{done['jobId']}").json()
            assert job["status"] == "completed" and job["result"]["downloadUrl"] == done["downloadUrl"]
            assert image_size(client.get(done["downloadUrl"]).content) == (64, 48)
    finally:
        srv.stop()
