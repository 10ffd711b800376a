"""The node's ear: LISTEN on one psycopg connection of its own, read without a thread (wait until its socket
is readable, then take what arrived), reconnecting with backoff."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio

from actors.store.repos import queue as q

log = logging.getLogger("lutra.cluster")


async def listen(conninfo: str, on_notify: Callable[[str, str], None], reconnected: Callable[[], Awaitable[None]],
                 *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Call `on_notify(channel, payload)` for every announcement, forever; `reconnected()` after a lost
    connection is back. Started once the first connection listens (or its first try failed)."""
    import psycopg

    backoff = 0.5
    started = False
    while True:
        conn = None
        try:
            conn = await trio.to_thread.run_sync(q.listening, conninfo)
            backoff = 0.5
            if started:
                await reconnected()
            else:
                started = True
                task_status.started()
            while True:
                await trio.lowlevel.wait_readable(conn.pgconn.socket)
                conn.pgconn.consume_input()
                while (note := conn.pgconn.notifies()) is not None:
                    on_notify(note.relname.decode(), note.extra.decode())
        except (psycopg.Error, OSError):
            log.warning("cluster: the notification connection was lost; reconnecting", exc_info=True)
        finally:
            if conn is not None:
                conn.close()
        if not started:
            started = True
            task_status.started()
        await trio.sleep(backoff)
        backoff = min(backoff * 2, 10)
