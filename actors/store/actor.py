"""The StoreActor: owns the database engine; queries run serialised on a worker thread.

`call(fn, ...)` awaits a result; `post(write, params)` is a small write (a job's state, an audit entry)
that returns at once: with SQLite, when the store is idle (no query running, none queued) it is committed
right there on the event loop, far cheaper than handing it to a thread and back (the fast path of every
request that waits for its job's state to be committed); otherwise, or when another process holds the
database's write lock, it is queued and the actor's own loop runs it in order. The loop never waits on the
disk: commits do not fsync (WAL, synchronous=NORMAL) and WAL checkpoints, which do, run on the thread every
CHECKPOINT_S. DATABASE_URL may point at PostgreSQL instead (`postgresql://...`, driven by psycopg 3): the same
queries and migrations, every write through the thread, and migrations serialised between nodes.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import trio
from sqlalchemy import JSON, Connection, create_engine, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import StaticPool

log = logging.getLogger("lutra.store")
T = TypeVar("T")
BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_S = 10.0
GROUP_MAX = 64  # a database server: queued writes committed in one transaction at most
CONNECT_TIMEOUT_S = 10  # PostgreSQL: a server that does not answer at all fails after this long
# PostgreSQL advisory lock key held while migrating: nodes starting together apply a migration exactly once
MIGRATION_LOCK_KEY = 0x4C75_7472  # "Lutr"


class DatabaseUnreachable(RuntimeError):
    """The database named by DATABASE_URL cannot be reached (at start-up); the message names it, without
    its password, and says why."""


def normalise_url(url: str) -> str:
    """`postgresql://` (and `postgres://`, as many hosts write it) means psycopg 3: SQLAlchemy's default for
    a bare `postgresql://` is psycopg2, which Lutra does not ship."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


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
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints (which fsync) run on the store's thread
            cur.close()

        return engine
    url = normalise_url(url)
    if url.startswith("postgresql"):
        # no ping before every transaction (a round trip, a third of a small write's cost): a connection the
        # server dropped fails its one operation and is replaced, and a failed group of posted writes is run
        # again write by write, on a fresh connection
        return create_engine(url, pool_recycle=1800, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    return create_engine(url, pool_pre_ping=True)


def check_reachable(url: str) -> None:
    """Connect once, or raise DatabaseUnreachable saying which database and why (for `lutra serve` to
    print before it starts anything). SQLite files are created on demand, so only servers are checked."""
    if url.startswith("sqlite"):
        return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as err:
        reason = str(getattr(err, "orig", None) or err).strip().splitlines()
        where = engine.url.render_as_string(hide_password=True)
        raise DatabaseUnreachable(f"cannot reach the database {where}: {reason[0] if reason else type(err).__name__}") \
            from None
    finally:
        engine.dispose()


def migrate(engine: Engine) -> bool:
    """Bring the schema to the newest revision (Alembic, run programmatically); True if this call applied
    anything. On PostgreSQL the upgrade runs in one transaction holding an advisory lock, so of several
    nodes starting at once exactly one applies a migration and the others find the schema already there."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        before = MigrationContext.configure(conn).get_current_revision()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        return MigrationContext.configure(conn).get_current_revision() != before


class Write:
    """One INSERT or UPDATE with named parameters, for `StoreActor.post(write, params)`.

    The loop commits it through a plain sqlite3 connection of its own: SQLAlchemy compiles the statement
    once, and each parameter goes through its column type's own bind processor (a JSON column is stored
    exactly as through SQLAlchemy), then it is one `execute`. SQLAlchemy's execution path (connection
    checkout, execution context, result object) cost the loop 0.3-0.4 ms of CPU per write under load,
    where its code and data are cache-cold between requests; the plain execute about a third of that.
    Queued writes on SQLite run the statement through SQLAlchemy on the thread; on PostgreSQL they run the
    same way as the loop's (compiled once, one psycopg execute), inside the store thread's transaction."""

    def __init__(self, statement) -> None:  # noqa: ANN001 - an Insert or Update
        self.statement = statement
        # per dialect: a process uses one, but tests use both with the same module-level writes
        self._prepared: dict[str, tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]] = {}

    def __call__(self, conn: Connection, params: dict[str, Any]) -> None:
        if conn.dialect.name == "postgresql":
            # the statement as compiled once, straight on the psycopg connection (inside the same transaction)
            sql, binds = self.prepare(conn.dialect)
            conn.connection.driver_connection.execute(
                sql, {name: params[name] if process is None else process(params[name]) for name, process in binds})
            return
        conn.execute(self.statement, params)

    def prepare(self, dialect: Dialect) -> tuple[str, list[tuple[str, Callable[[Any], Any] | None]]]:
        """(the SQL with positional placeholders, each placeholder's parameter name and bind processor)."""
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            compiled = self.statement.compile(dialect=dialect)
            names = compiled.positiontup or list(compiled.binds)  # qmark (sqlite3) or named (psycopg)
            binds = [(name, _bind_processor(compiled.binds[name].type, dialect)) for name in names]
            prepared = self._prepared[dialect.name] = (str(compiled), binds)
        return prepared


def _bind_processor(column_type, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's own bind processor; for JSON on psycopg, which SQLAlchemy hands to the driver as a
    Json wrapper at execution (there is no processor to take), that same wrapper. None becomes JSON null
    unless the column says none_as_null, as through SQLAlchemy."""
    if dialect.name == "postgresql" and isinstance(column_type, JSON):
        from psycopg.types.json import Json

        if column_type.none_as_null:
            return lambda value: None if value is None else Json(value)
        return Json
    return column_type.bind_processor(dialect)


class StoreActor:
    name = "store"

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name  # "sqlite" or "postgresql"
        self._limiter = trio.CapacityLimiter(1)
        self._send, self._recv = trio.open_memory_channel[tuple[Callable, tuple, trio.Event | None]](math.inf)
        self.healthy = True
        database = self.engine.url.database if url.startswith("sqlite") else None
        self.write_through = bool(database) and database != ":memory:"
        self._inline: sqlite3.Connection | None = None  # the loop's own connection for its writes
        self._queued = 0  # posted writes not yet run (queued or being run by the loop)
        self._writes = 0  # writes since the last checkpoint

    def _run(self, fn: Callable[..., T], args: tuple) -> T:
        with self.engine.begin() as conn:
            return fn(conn, *args)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        return await trio.to_thread.run_sync(self._run, fn, args, limiter=self._limiter)

    def post(self, write: Write, params: dict[str, Any], *, done: trio.Event | None = None) -> None:
        """A small write; `done` (optional) is set once it has been committed (or has failed). Committed at
        once when the store is idle (see the module's docstring), else queued behind what is queued."""
        self._writes += 1
        if self.write_through and self._queued == 0 and self._limiter.borrowed_tokens == 0 \
                and self._write_now(write, params):
            if done is not None:
                done.set()
            return
        self._queued += 1
        self._send.send_nowait((write, (params,), done))

    def _write_now(self, write: Write, params: dict[str, Any]) -> bool:
        """Commit a write on the loop's thread, never waiting for a lock: False (nothing written) when
        another connection holds it, so the caller queues the write for the thread, which may wait."""
        try:
            sql, binds = write.prepare(self.engine.dialect)
            row = [params[name] if process is None else process(params[name]) for name, process in binds]
            conn = self._inline_connection()
            conn.execute("BEGIN IMMEDIATE")
        except Exception as err:
            if isinstance(err, sqlite3.OperationalError) and ("locked" in str(err) or "busy" in str(err)):
                return False
            log.exception("store: a write failed")
            return True
        try:
            conn.execute(sql, row)
            conn.execute("COMMIT")
        except Exception:
            log.exception("store: a write failed")
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        return True

    def _inline_connection(self) -> sqlite3.Connection:
        if self._inline is None:
            # busy timeout 0: a lock held elsewhere fails at once (and the write is queued), never blocking
            conn = sqlite3.connect(self.engine.url.database, timeout=0, isolation_level=None,
                                   check_same_thread=False)
            for pragma in ("synchronous=NORMAL", "foreign_keys=ON", "wal_autocheckpoint=0"):
                conn.execute(f"PRAGMA {pragma}")
            self._inline = conn
        return self._inline

    def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None

    async def flush(self) -> None:
        """Wait until every posted write has run."""
        done = trio.Event()
        self._send.send_nowait((_MARK, (), done))
        await done.wait()

    async def drain(self) -> None:
        """Run every write still queued (at shutdown, after the run loop has stopped), then checkpoint."""
        while True:
            try:
                fn, args, done = self._recv.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            if fn is not _MARK:
                self._queued -= 1
                try:
                    await self.call(fn, *args)
                except Exception:
                    log.exception("store: a queued write failed at shutdown")
            if done is not None:
                done.set()
        self.close()
        if self.write_through:
            try:
                await self.checkpoint("TRUNCATE")
            except Exception:
                log.exception("store: final checkpoint failed")

    async def start(self) -> None:
        await trio.to_thread.run_sync(migrate, self.engine, limiter=self._limiter)

    async def run(self, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            if self.write_through:
                nursery.start_soon(self._checkpoints)
            task_status.started()
            if self.dialect != "sqlite":
                await self._run_groups()
                nursery.cancel_scope.cancel()
                return
            async for fn, args, done in self._recv:
                try:
                    if fn is not _MARK:
                        await self.call(fn, *args)
                except Exception:
                    log.exception("store: a queued write failed")
                finally:
                    if fn is not _MARK:
                        self._queued -= 1
                    if done is not None:
                        done.set()
            nursery.cancel_scope.cancel()

    async def _run_groups(self) -> None:
        """A database server: the writes queued by the time the thread is free commit together, in one
        transaction (one round of commit and thread hand-off for all; under load a job's row, its queue row
        and other jobs' ends share one). Should the group fail, each write runs alone, so that one bad
        write does not take the others with it."""
        async for first in self._recv:
            group = [first]
            while len(group) < GROUP_MAX:
                try:
                    group.append(self._recv.receive_nowait())
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
            writes = [(fn, args) for fn, args, _ in group if fn is not _MARK]
            try:
                if writes:
                    await self.call(_run_all, writes)
            except Exception:
                log.warning("store: a group of %d writes failed; running them one by one", len(writes))
                for fn, args in writes:
                    try:
                        await self.call(fn, *args)
                    except Exception:
                        log.exception("store: a queued write failed")
            finally:
                self._queued -= len(writes)
                for _, _, done in group:
                    if done is not None:
                        done.set()

    async def _checkpoints(self) -> None:
        """Copy the WAL into the database file now and then (on the thread: this is what fsyncs)."""
        while True:
            await trio.sleep(CHECKPOINT_S)
            if self._writes:
                self._writes = 0
                try:
                    await self.checkpoint()
                except Exception:
                    log.exception("store: checkpoint failed")

    async def checkpoint(self, mode: str = "PASSIVE") -> None:
        await trio.to_thread.run_sync(self._checkpoint, mode, limiter=self._limiter)

    def _checkpoint(self, mode: str) -> None:
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")

    async def ping(self) -> bool:
        try:
            await self.call(lambda conn: conn.execute(text("SELECT 1")).scalar())
            self.healthy = True
        except Exception:
            log.exception("store: health check failed")
            self.healthy = False
        return self.healthy


def _run_all(conn: Connection, writes: list[tuple[Callable, tuple]]) -> None:
    for fn, args in writes:
        fn(conn, *args)


def _MARK(_conn: Connection) -> None:  # noqa: N802 - a sentinel
    return None
