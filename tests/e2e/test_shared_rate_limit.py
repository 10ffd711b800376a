"""RATE_LIMIT_PER_MIN counts across nodes: two nodes on one PostgreSQL allow that many requests a minute
in all, not that many each."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from actors.store.actor import normalise_url
from tests.helpers import Server, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.e2e, pytest.mark.slow]

LIMIT = 8


@pytest.fixture(scope="module")
def two_nodes(postgres, tmp_path_factory):
    url = postgres.create_database()
    tmp = tmp_path_factory.mktemp("ratelimit")
    env = {"DATABASE_URL": url, "STORAGE_ROOT": str(tmp / "storage"), "RATE_LIMIT_PER_MIN": str(LIMIT),
           "CAPACITIES": "image=1"}
    nodes = []
    try:
        for name in ("A", "B"):
            nodes.append(Server(tmp / f"node-{name}", {**env, "NODE_NAME": name}).start())
        yield url, nodes
    finally:
        for srv in nodes:
            srv.stop()


def _seconds_into_minute(url: str) -> float:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT mod(extract(epoch from clock_timestamp()), 60)")).scalar()
    finally:
        engine.dispose()


def test_two_nodes_share_one_request_budget(two_nodes):
    url, (a, b) = two_nodes
    # the windows are the database's minutes: start early in one, so that all the requests fall in it
    wait_for(lambda: _seconds_into_minute(url) < 40, 30, "the start of a minute", interval=0.5)
    with a.client() as client_a, b.client() as client_b:
        statuses = []
        for i in range(LIMIT + 2):
            client = client_a if i % 2 == 0 else client_b
            statuses.append(client.get("/api/v1/settings").status_code)
        refused = client_b.get("/api/v1/jobs")
    # the admin's logins (one per node) were anonymous: counted per IP, not against the user's budget
    assert statuses == [200] * LIMIT + [429, 429], statuses
    assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    # the health check is never counted, on either node
    assert a.healthy() and b.healthy()
