"""The coordinators' ledger on PostgreSQL (service.cluster.coordinators): a batch completes exactly once,
only by the holder of its current lease and only while its job is open; a lapsed lease is taken over once;
an item's first recorded outcome stays."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import text

from actors.store.actor import make_engine, migrate
from actors.store.repos import queue as q
from service.cluster import coordinators as c

pytestmark = pytest.mark.postgres


@pytest.fixture()
def engine(postgres):
    engine = make_engine(postgres.create_database())
    migrate(engine)
    yield engine
    engine.dispose()


def _batch(engine, node: str = "A/1", lease_s: float = 30) -> str:
    parent = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO jobs (id, kind, status, progress, created_at, updated_at)"
                          " VALUES (:id, 'batch', 'processing', 0, :now, :now)"), {"id": parent, "now": time.time()})
        c.insert_coordinator(conn, parent, "batch", {"items": []}, node, lease_s)
    return parent


def _complete(engine, parent: str, node: str, attempt: int) -> bool:
    with engine.begin() as conn:
        return c.complete_coordinator(conn, parent, node, attempt, "completed", {"result": {"jobId": parent}})


def _job(engine, parent: str):
    with engine.connect() as conn:
        return conn.execute(text("SELECT status, result FROM jobs WHERE id = :id"), {"id": parent}).one()


def test_only_the_current_holder_completes_and_only_once(engine):
    parent = _batch(engine, lease_s=-1)  # lapsed at once: node B takes it over
    with engine.begin() as conn:
        taken = c.lease_coordinators(conn, "B/1", [], 30)
    assert [(r.id, r.attempts) for r in taken] == [(parent, 2)]
    with engine.begin() as conn:  # taken once: nothing lapsed is left for a third node
        assert c.lease_coordinators(conn, "C/1", [], 30) == []
    assert not _complete(engine, parent, "A/1", 1)  # the first holder, still alive, has lost it
    assert _job(engine, parent).status == "processing"
    assert _complete(engine, parent, "B/1", 2)
    assert not _complete(engine, parent, "B/1", 2)  # done already
    assert _job(engine, parent) == ("completed", {"jobId": parent})


def test_a_batch_canceled_elsewhere_is_not_completed_over_it_and_its_lease_ends(engine):
    parent = _batch(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE jobs SET status = 'canceled' WHERE id = :id"), {"id": parent})
    assert not _complete(engine, parent, "A/1", 1)
    assert _job(engine, parent).status == "canceled"
    other = _batch(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE jobs SET status = 'canceled' WHERE id = :id"), {"id": other})
        c.lease_coordinators(conn, "B/1", [], 30)
        state = conn.execute(text("SELECT state FROM coordinators WHERE id = :id"), {"id": other}).scalar()
    assert state == "done"  # never resumed


def test_a_cancel_from_any_node_ends_the_batch_in_the_database(engine):
    """The node coordinating it may be dead: the cancel must not wait for it, nor be undone by a resume."""
    parent = _batch(engine, lease_s=-1)
    with engine.begin() as conn:
        q.CANCEL(conn, {"id": parent, "c": q.CANCEL_CHANNEL, "outcome": json.dumps({"status": "canceled"})})
    assert _job(engine, parent).status == "canceled"
    with engine.begin() as conn:
        assert c.lease_coordinators(conn, "B/1", [], 30) == []  # not resumed
    assert not _complete(engine, parent, "A/1", 1)


def test_a_coordinator_whose_nodes_keep_dying_fails_its_batch(engine):
    parent = _batch(engine, lease_s=-1)
    with engine.begin() as conn:
        conn.execute(text("UPDATE coordinators SET attempts = 3 WHERE id = :id"), {"id": parent})
        assert c.lease_coordinators(conn, "B/1", [], 30) == []
    row = _job(engine, parent)
    assert row.status == "failed"


def test_an_item_s_first_outcome_stays(engine):
    parent = _batch(engine)
    first = {"files": [["items/0/out/a.jpg", "a.jpg"]]}
    note = {"id": parent, "p": 50.0, "m": "1/2 files", "b": {"totalFiles": 2, "completedFiles": 1}}
    with engine.begin() as conn:
        c.record_item(conn, parent, 0, first, note)
        c.record_item(conn, parent, 0, {"error": "a second run"}, note)
    with engine.begin() as conn:
        assert c.item_outcomes(conn, parent) == {0: first}
        assert c.batch_state(conn, parent) == note["b"]
        assert conn.execute(text("SELECT progress FROM jobs WHERE id = :id"), {"id": parent}).scalar() == 50.0
