"""A real `lutra serve` process on a free loopback port with its own DATA_DIR (the load harness and the
test suites start their servers through it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


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

    def healthy(self) -> bool:
        return httpx.get(self.base_url + "/api/v1/health", timeout=5).status_code == 200


def start_server(data_dir: Path, env: dict[str, str] | None = None) -> Server:
    """A started server for a load run: quiet logs, no rate limit (the harness sends bursts)."""
    return Server(data_dir, {"LOG_LEVEL": "warning", "RATE_LIMIT_PER_MIN": "0", **(env or {})}).start()
