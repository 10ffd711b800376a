"""Test helpers shared by every suite: run a tool in-process, start real servers, make inputs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from actors import catalog, workers
from load.harness.server import ROOT, free_port
from load.harness.server import Server as _Server
from protocols.tools import Limits, ToolCall, ToolResult

__all__ = ["ROOT", "Server", "free_port", "run_tool", "settings_field", "wait_for", "wait_job"]


def run_tool(tool_id: str, inputs: list[Path] | Path, settings: dict[str, Any] | None, workdir: Path,
             *, names: list[str] | None = None, roles: list[str] | None = None,
             limits: Limits | None = None) -> ToolResult:
    """Validate settings with the tool's own model and run it exactly as a worker would."""
    spec = catalog.load()[tool_id]
    if isinstance(inputs, Path):
        inputs = [inputs]
    out = workdir / f"out-{tool_id.replace('/', '_')}-{time.monotonic_ns()}"
    out.mkdir(parents=True)
    call = ToolCall(
        inputs=list(inputs),
        names=names or [p.name for p in inputs],
        settings=spec.settings.model_validate(settings or {}),
        workdir=out,
        limits=limits or Limits(max_megapixels=250),
        roles=roles or ["file"] * len(inputs),
    )
    return workers.run_here(spec.run, call)


def settings_field(settings: dict[str, Any]) -> dict[str, str]:
    return {"settings": json.dumps(settings)}


def wait_job(client: httpx.Client, job_id: str, timeout: float = 120) -> dict[str, Any]:
    """Follow a job's SSE stream to its terminal frame."""
    last: dict[str, Any] = {}
    with client.stream("GET", f"/api/v1/jobs/{job_id}/progress", timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        for line in response.iter_lines():
            if line.startswith("data: "):
                last = json.loads(line[6:])
                if last["status"] in ("completed", "failed", "canceled"):
                    return last
    return last


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll `predicate` until it returns something truthy (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class Server(_Server):
    """The harness's real server; with LUTRA_TEST_DATABASE=postgres, on a database of its own in the suite's
    throwaway PostgreSQL cluster."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(data_dir, env)
        if "DATABASE_URL" not in (env or {}) and not self.env.get("DATABASE_URL"):
            from tests import pg

            if pg.whole_suite_on_postgres():
                self.env["DATABASE_URL"] = pg.shared_cluster().database_for(str(data_dir.resolve()))

    def db(self):
        """A connection to this server's database, SQLite or PostgreSQL alike: `with srv.db() as conn:
        conn.execute(sql_with_qmarks, params)`; committed when the block ends."""
        url = self.env.get("DATABASE_URL")
        if not url:
            import sqlite3

            return sqlite3.connect(self.data_dir / "lutra.db", timeout=30)
        return _QmarkConnection(url)


class _QmarkConnection:
    """psycopg behind sqlite3's calling convention (`?` placeholders), for tests that read or set rows."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))

    def execute(self, sql: str, params: tuple = ()):
        return self.conn.execute(sql.replace("?", "%s"), params)

    def __enter__(self) -> _QmarkConnection:
        return self

    def __exit__(self, *exc) -> None:
        with self.conn:  # commits (or rolls back on an error) and closes
            pass


def client_connections(pid: int, port: int) -> int:
    """How many TCP connections to `port` the server process `pid` still holds (its listener not counted):
    what a test of released connections counts, rather than all descriptors (worker pipes and lazily
    opened files add to those on first use)."""
    import psutil

    return sum(1 for c in psutil.Process(pid).net_connections(kind="tcp")
               if c.laddr and c.laddr.port == port and c.status != psutil.CONN_LISTEN)
