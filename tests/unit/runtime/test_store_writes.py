"""StoreActor.post: committed at once when the store is idle, queued (in order) when it is not, and
never waiting on the event loop for another process's write lock."""

from __future__ import annotations

import sqlite3
import time
import uuid

import trio
from sqlalchemy import text

from actors.store.actor import StoreActor
from service.jobs import _finish_job, _insert_job


def status_of(store: StoreActor, job_id: str):
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT status FROM jobs WHERE id = :i"), {"i": job_id}).scalar()


def finish(store, job_id, status, done=None):
    store.post(_finish_job, job_id, status, 100, None, None, None, None, None, time.time(), done=done)


async def test_writes_commit_at_once_when_idle_and_queue_in_order_behind_a_lock(tmp_path):
    store = StoreActor(f"sqlite:///{tmp_path}/lutra.db")
    await store.start()
    async with trio.open_nursery() as nursery:
        await nursery.start(store.run)
        job_id = str(uuid.uuid4())
        inserted = trio.Event()
        store.post(_insert_job, job_id, None, "tool", "resize", time.time(), done=inserted)
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
