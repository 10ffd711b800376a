"""The StoreActor: owns the database engine; every query runs serialised on a worker thread.

`call(fn, ...)` awaits a result; `post(fn, ...)` queues a write-behind and returns at once (the actor's
own loop runs it and reports its errors). SQLite runs in WAL mode; DATABASE_URL may point elsewhere.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import trio
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

log = logging.getLogger("lutra.store")
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic, run programmatically)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class StoreActor:
    name = "store"

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._limiter = trio.CapacityLimiter(1)
        self._send, self._recv = trio.open_memory_channel[tuple[Callable, tuple, trio.Event | None]](math.inf)
        self.healthy = True

    def _run(self, fn: Callable[..., T], args: tuple) -> T:
        with self.engine.begin() as conn:
            return fn(conn, *args)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(self._run, fn, args, limiter=self._limiter)

    def post(self, fn: Callable[[Connection], Any], *args: Any, done: trio.Event | None = None) -> None:
        """Queue a write; `done` (optional) is set once it has been committed (or has failed)."""
        self._send.send_nowait((fn, args, done))

    async def flush(self) -> None:
        """Wait until every posted write has run."""
        done = trio.Event()
        self._send.send_nowait((_MARK, (), done))
        await done.wait()

    async def drain(self) -> None:
        """Run every write still queued (at shutdown, after the run loop has stopped)."""
        while True:
            try:
                fn, args, done = self._recv.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                return
            if fn is not _MARK:
                try:
                    await self.call(fn, *args)
                except Exception:
                    log.exception("store: a queued write failed at shutdown")
            if done is not None:
                done.set()

    async def start(self) -> None:
        await trio.to_thread.run_sync(migrate, self.engine, limiter=self._limiter)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        async for fn, args, done in self._recv:
            try:
                if fn is not _MARK:
                    await self.call(fn, *args)
            except Exception:
                log.exception("store: a queued write failed")
            finally:
                if done is not None:
                    done.set()

    async def ping(self) -> bool:
        try:
            await self.call(lambda conn: conn.execute(text("SELECT 1")).scalar())
            self.healthy = True
        except Exception:
            log.exception("store: health check failed")
            self.healthy = False
        return self.healthy


def _MARK(_conn: Connection) -> None:  # noqa: N802 - a sentinel
    return None
