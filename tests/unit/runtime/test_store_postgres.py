"""The store on PostgreSQL: posted writes go through SQLAlchemy (never the SQLite fast path), migrations
run once however many nodes start together, and an unreachable server stops start-up with a clear error."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid

import pytest
import trio
from sqlalchemy import select, text

from actors.store import schema
from actors.store.actor import StoreActor, make_engine, migrate
from actors.store.repos.jobs import FINISH as _FINISH_JOB
from tests.helpers import ROOT, free_port
from tests.unit.runtime.test_store_writes import finish, insert

pytestmark = pytest.mark.postgres


async def test_posted_writes_reach_postgres_in_order_through_sqlalchemy(postgres):
    store = StoreActor(postgres.create_database())
    assert store.dialect == "postgresql" and not store.write_through
    await store.start()
    result = {"jobId": "j", "nested": {"ok": True, "n": [1, 2.5]}, "text": "é"}
    async with trio.open_nursery() as nursery:
        await nursery.start(store.run)
        job_id = str(uuid.uuid4())
        done = trio.Event()
        insert(store, job_id)
        finish(store, job_id, "processing")
        finish(store, job_id, "completed", done, result=result, http_status=200)
        assert store._inline is None  # no sqlite3 connection was ever opened
        await done.wait()
        nursery.cancel_scope.cancel()
    await store.drain()
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.jobs).where(schema.jobs.c.id == job_id)).mappings().one()
        kind = conn.execute(text("SELECT data_type FROM information_schema.columns "
                                 "WHERE table_name = 'jobs' AND column_name = 'result'")).scalar()
    assert (row["status"], row["result"], row["http_status"], row["updated_at"]) == ("completed", result, 200, 1234.5)
    assert kind == "json"
    store.engine.dispose()


def test_two_nodes_migrating_at_once_apply_it_exactly_once(postgres):
    url = postgres.create_database()
    engines = [make_engine(url), make_engine(url)]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def node(engine) -> None:
        barrier.wait()
        try:
            outcomes.append(migrate(engine))
        except Exception as err:  # without the lock, the loser's CREATE TABLE fails on the winner's
            outcomes.append(err)

    threads = [threading.Thread(target=node, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes, key=repr) == [False, True]
    with engines[0].connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [("0004",)]
        assert conn.execute(text("SELECT data_type FROM information_schema.columns "
                                 "WHERE table_name = 'files' AND column_name = 'size'")).scalar() == "bigint"
    for engine in engines:
        engine.dispose()


def test_unreachable_database_stops_start_up_with_a_clear_error(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql://lutra:s3cret-pw@127.0.0.1:{port}/lutra"
    env = {"DATA_DIR": str(tmp_path / "data"), "DATABASE_URL": url, "PORT": str(free_port()), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "service.cli", "serve"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # one line, no traceback
    assert lines[0].startswith("Lutra: cannot reach the database postgresql+psycopg://lutra:***@127.0.0.1:")
    assert f":{port}/lutra" in lines[0] and "s3cret-pw" not in proc.stderr
    assert "refused" in lines[0].lower() or "connect" in lines[0].lower()


async def test_queued_writes_commit_together_and_a_bad_one_spoils_none_of_the_others(postgres):
    store = StoreActor(postgres.create_database())
    await store.start()
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    async with trio.open_nursery() as nursery:
        await nursery.start(store.run)
        done = trio.Event()
        insert(store, first)
        insert(store, first)  # the same primary key again: this one fails, in the same group
        insert(store, second)
        finish(store, second, "completed", done, result={"ok": True}, http_status=200)
        await done.wait()
        nursery.cancel_scope.cancel()
    with store.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, status FROM jobs")).all())
    assert rows == {first: "queued", second: "completed"}
    assert store._queued == 0
    store.engine.dispose()


async def test_the_compiled_write_stores_what_sqlalchemy_stores(postgres):
    """Posted writes run as one psycopg execute of the statement compiled once; the row (JSON, a JSON None,
    numbers, NULLs) must be exactly what SQLAlchemy's own execution stores."""
    store = StoreActor(postgres.create_database())
    await store.start()
    result = {"jobId": "j", "nested": {"ok": True, "n": [1, 2.5]}, "text": "é", "none": None}
    pairs = [(str(uuid.uuid4()), str(uuid.uuid4()), value) for value in (result, None)]
    async with trio.open_nursery() as nursery:
        await nursery.start(store.run)
        done = trio.Event()
        for compiled, through_sqlalchemy, value in pairs:
            insert(store, compiled)
            insert(store, through_sqlalchemy)
            finish(store, compiled, "completed", done, result=value, http_status=200)
        await done.wait()
        nursery.cancel_scope.cancel()
    with store.engine.begin() as conn:
        for _compiled, through_sqlalchemy, value in pairs:
            conn.execute(_FINISH_JOB.statement, {
                "b_id": through_sqlalchemy, "b_status": "completed", "b_progress": 100, "b_message": None,
                "b_result": value, "b_error": None, "b_code": None, "b_http_status": 200, "b_updated_at": 1234.5})
    with store.engine.connect() as conn:
        rows = {r.id: r[1:] for r in conn.execute(text(
            "SELECT id, result::text, result IS NULL, progress, http_status, updated_at, message FROM jobs")).all()}
    for compiled, through_sqlalchemy, _value in pairs:
        assert rows[compiled] == rows[through_sqlalchemy]
    assert rows[pairs[0][0]][0] is not None and rows[pairs[0][0]][3] == 200
    store.engine.dispose()
