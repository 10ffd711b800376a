"""StoreActor.post: committed at once when the store is idle, queued (in order) when it is not, never
waiting on the event loop for another process's write lock, and storing the same row either way."""

from __future__ import annotations

import sqlite3
import time
import uuid

import trio
from sqlalchemy import select, text

from actors.store import schema
from actors.store.actor import StoreActor
from actors.store.repos.jobs import FINISH as _FINISH_JOB
from actors.store.repos.jobs import INSERT as _INSERT_JOB


def status_of(store: StoreActor, job_id: str):
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT status FROM jobs WHERE id = :i"), {"i": job_id}).scalar()


def insert(store, job_id, done=None):
    now = time.time()
    store.post(_INSERT_JOB, {"id": job_id, "owner_id": None, "kind": "tool", "tool_id": "resize", "status": "queued",
                             "progress": 0, "created_at": now, "updated_at": now}, done=done)


def finish(store, job_id, status, done=None, result=None, http_status=None):
    store.post(_FINISH_JOB, {"b_id": job_id, "b_status": status, "b_progress": 100, "b_message": None,
                             "b_result": result, "b_error": None, "b_code": None, "b_http_status": http_status,
                             "b_updated_at": 1234.5}, done=done)


async def test_writes_commit_at_once_when_idle_and_queue_in_order_behind_a_lock(tmp_path):
    store = StoreActor(f"sqlite:///{tmp_path}/lutra.db")
    await store.start()
    async with trio.open_nursery() as nursery:
        await nursery.start(store.run)
        job_id = str(uuid.uuid4())
        inserted = trio.Event()
        insert(store, job_id, inserted)
        assert inserted.is_set() and status_of(store, job_id) == "queued"  # committed before post returned

        other = sqlite3.connect(f"{tmp_path}/lutra.db", timeout=0)  # another process holds the write lock
        other.execute("BEGIN IMMEDIATE")
        first, second = trio.Event(), trio.Event()
        started = time.monotonic()
        finish(store, job_id, "processing", first)
        finish(store, job_id, "completed", second)  # must not overtake the queued one
        assert time.monotonic() - started < 1  # the loop did not wait for the lock
        assert not first.is_set() and not second.is_set()
        await trio.sleep(0.05)
        other.rollback()
        other.close()
        await second.wait()
        assert first.is_set() and status_of(store, job_id) == "completed"

        third = trio.Event()
        finish(store, job_id, "failed", third)  # idle again: at once
        assert third.is_set() and status_of(store, job_id) == "failed"
        nursery.cancel_scope.cancel()
    await store.drain()
    wal = tmp_path / "lutra.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0  # the final checkpoint emptied the WAL


def row_of(store: StoreActor, job_id: str) -> dict:
    with store.engine.connect() as conn:
        row = conn.execute(select(schema.jobs).where(schema.jobs.c.id == job_id)).mappings().one()
    return {k: v for k, v in row.items() if k != "id"}


async def test_the_loop_and_the_queue_store_identical_rows(tmp_path):
    """The loop's own plain sqlite3 write must store exactly what SQLAlchemy stores: JSON columns
    serialised by the column type, None as it would be, numbers as numbers."""
    store = StoreActor(f"sqlite:///{tmp_path}/lutra.db")
    await store.start()
    result = {"jobId": "j", "downloadUrl": "/api/v1/download/j/a b.jpg", "nested": {"ok": True, "n": [1, 2.5]},
              "text": "é"}
    async with trio.open_nursery() as nursery:
        await nursery.start(store.run)
        fast, queued = str(uuid.uuid4()), str(uuid.uuid4())
        done = trio.Event()
        insert(store, fast, done)
        finish(store, fast, "completed", done, result=result, http_status=200)
        assert done.is_set()  # committed on the loop

        other = sqlite3.connect(f"{tmp_path}/lutra.db", timeout=0)
        other.execute("BEGIN IMMEDIATE")
        done = trio.Event()
        insert(store, queued)
        finish(store, queued, "completed", done, result=result, http_status=200)
        assert not done.is_set()  # queued: it runs through SQLAlchemy on the store's thread
        other.rollback()
        other.close()
        await done.wait()
        nursery.cancel_scope.cancel()
    fast_row, queued_row = row_of(store, fast), row_of(store, queued)
    fast_row.pop("created_at"), queued_row.pop("created_at")
    assert fast_row == queued_row
    assert fast_row["result"] == result and fast_row["http_status"] == 200 and fast_row["message"] is None
    with sqlite3.connect(f"{tmp_path}/lutra.db") as raw:  # the stored text itself, not only what it decodes to
        texts = raw.execute("SELECT result, typeof(progress), typeof(updated_at) FROM jobs ORDER BY id").fetchall()
    assert texts[0] == texts[1]
    await store.drain()
