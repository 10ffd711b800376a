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
<<<<<<< HEAD
    return workers.run_here(spec.run, call)
=======
    if spec.in_process:
        import trio

        async def go():
            result = spec.run(call)
            if hasattr(result, "__await__"):
                result = await result
            return workers.finish(result, call)

        return trio.run(go)
    return workers.invoke(tool_id, call)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real `lutra serve` process on a free port with its own DATA_DIR."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "SKIP_MUST_CHANGE_PASSWORD": "true",
            "LOG_LEVEL": os.environ.get("LUTRA_TEST_LOG_LEVEL", "warning"),
            "CONCURRENT_JOBS": "2",
            "OFFICE_WARM": "false",  # LibreOffice starts at the first office conversion, not in every test server
            "RATE_LIMIT_PER_MIN": "0",  # suites send hundreds of requests a minute; rate-limit tests set it
            **(env or {}),
        }
        if "DATABASE_URL" not in (env or {}) and not self.env.get("DATABASE_URL"):
            from tests import pg

            if pg.whole_suite_on_postgres():  # LUTRA_TEST_DATABASE=postgres: this data folder's own database
                self.env["DATABASE_URL"] = pg.shared_cluster().database_for(str(data_dir.resolve()))
        self.proc: subprocess.Popen | None = None
        self.token: str | None = None
        self.log_path = data_dir.parent / f"{data_dir.name}.log"

    def start(self, timeout: float = 60) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], env=self.env, cwd=ROOT,
                                     stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not become healthy")
        if self.env.get("AUTH_ENABLED", "true") != "false" and self.env.get("ROLE") != "worker":
            self.token = self.login(self.env.get("DEFAULT_USERNAME", "admin"), self.env.get("DEFAULT_PASSWORD", "admin"))
        return self

    def login(self, username: str, password: str) -> str:
        r = httpx.post(self.base_url + "/api/auth/login", json={"username": username, "password": password})
        r.raise_for_status()
        return r.json()["token"]

    def client(self, token: str | None = "default", timeout: float = 120) -> httpx.Client:
        headers = {}
        token = self.token if token == "default" else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def db(self):
        """A connection to this server's database, SQLite or PostgreSQL alike: `with srv.db() as conn:
        conn.execute(sql_with_qmarks, params)`; committed when the block ends."""
        url = self.env.get("DATABASE_URL")
        if not url:
            import sqlite3

            return sqlite3.connect(self.data_dir / "lutra.db", timeout=30)
        return _QmarkConnection(url)

    def healthy(self) -> bool:
        return httpx.get(self.base_url + "/api/v1/health", timeout=5).status_code == 200
>>>>>>> pg


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


<<<<<<< HEAD
class Server(_Server):
    """The harness's real server; with LUTRA_TEST_DATABASE=postgres, on a database of its own in the suite's
    throwaway PostgreSQL cluster."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        super().__init__(data_dir, env)
        if "DATABASE_URL" not in (env or {}) and not self.env.get("DATABASE_URL"):
            from tests import pg

            if pg.whole_suite_on_postgres():
                self.env["DATABASE_URL"] = pg.shared_cluster().database_for(str(data_dir.resolve()))
=======
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
>>>>>>> pg
