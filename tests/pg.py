"""A throwaway PostgreSQL cluster for tests: `initdb` in a temp folder, `pg_ctl start` on a free loopback
port with its unix socket in that folder, removed afterwards. Needs only Debian's `postgresql` package
(binaries in /usr/lib/postgresql/<major>/bin); no service has to be running.

PostgreSQL refuses to run as root, so when the tests run as root the cluster's files belong to, and its
programs run as, an unprivileged account: `postgres` (which the Debian package creates) or else `nobody`.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

from tests.helpers import free_port

SUPERUSER = "lutra"


def pg_bindir() -> Path | None:
    """The newest installed server's binaries, or None when PostgreSQL is not installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _run_as() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither 'postgres' nor 'nobody' exists to run PostgreSQL as")


class PostgresCluster:
    def __init__(self) -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="lutra-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.user = _run_as()
        self._databases: dict[str, str] = {}
        self._lock = threading.Lock()

    def _cmd(self, *args: str) -> None:
        def drop_privileges() -> None:
            if self.user is not None:
                os.setgid(self.user.pw_gid)
                os.setgroups([])
                os.setuid(self.user.pw_uid)

        result = subprocess.run(list(args), preexec_fn=drop_privileges, cwd=self.root, capture_output=True,
                                text=True, timeout=120)
        if result.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{Path(args[0]).name} failed: {result.stderr.strip()}\n{log}")

    def start(self) -> PostgresCluster:
        if self.user is not None:
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        self._cmd(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                  "--encoding=UTF8", "--locale=C", "--no-sync")
        # fsync off: a test cluster is thrown away, and tests must not wait on the disk
        self._options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                         "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self.start_server()
        return self

    def stop_server(self) -> None:
        """Stop the server as a crash would (immediate), keeping its data: `start_server` brings it back."""
        self._cmd(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w")

    def start_server(self) -> None:
        self._cmd(str(self.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data), "-l",
                  str(self.log), "-o", self._options)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = name or f"lutra_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def database_for(self, key: str) -> str:
        """The same database for the same key (a server's data folder), a new one for a new key: a test
        that restarts a server on its data folder finds its data again, as with SQLite."""
        with self._lock:
            if key not in self._databases:
                self._databases[key] = self.create_database()
            return self._databases[key]

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._cmd(str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


_shared: PostgresCluster | None = None
_shared_lock = threading.Lock()


def shared_cluster() -> PostgresCluster:
    """One cluster per test process, started on first use; `stop_shared_cluster` ends it."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = PostgresCluster().start()
            # also when no session fixture ends it: a test's subprocess (LUTRA_TEST_DATABASE is inherited)
            # or a session cut short
            atexit.register(stop_shared_cluster)
        return _shared


def stop_shared_cluster() -> None:
    global _shared
    with _shared_lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


def whole_suite_on_postgres() -> bool:
    """LUTRA_TEST_DATABASE=postgres runs every test server on a database of the shared cluster."""
    return os.environ.get("LUTRA_TEST_DATABASE", "").strip().lower() in ("postgres", "postgresql")
