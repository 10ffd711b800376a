"""Every setting, typed, with its default. The only place that reads the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

VERSION = "0.1.0"


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r}")


@dataclass(frozen=True)
class Config:
    """Environment variable = upper-case field name. Documented in deploy/lutra.env."""

    host: str = "127.0.0.1"
    port: int = 1349
    data_dir: Path = Path("./data")
    database_url: str = ""  # default: sqlite:///<DATA_DIR>/lutra.db
    auth_enabled: bool = True
    default_username: str = "admin"
    default_password: str = "admin"
    skip_must_change_password: bool = False
    session_duration_hours: float = 168
    concurrent_jobs: int = 0  # 0 = cores - 1, at least 2
    queue_size: int = 256  # jobs waiting per actor before new work gets 503 BUSY
    sync_wait_ms: int = 8000
    job_timeout_fast_s: float = 120
    job_timeout_long_s: float = 7200
    max_upload_size_mb: float = 2048  # 0 = unlimited
    max_batch_size: int = 0
    max_pipeline_steps: int = 20
    max_megapixels: float = 250
    max_pdf_pages: int = 0
    max_video_duration_s: float = 0
    max_storage_per_user_mb: float = 5000
    min_free_disk_mb: float = 256  # refuse new work below this much free space under DATA_DIR
    file_max_age_hours: float = 72
    rate_limit_per_min: int = 300
    analytics_enabled: bool = False
    posthog_key: str = ""  # served by /api/v1/config/analytics only when ANALYTICS_ENABLED
    posthog_host: str = ""
    sentry_dsn: str = ""
    analytics_sample_rate: float = 1.0
    log_level: str = "info"
    model_memory_mb: float = 1024  # AI models kept loaded in the server process; past it, LRU unloaded (0 = no limit)
    office_warm: bool = False  # start LibreOffice at the first office conversion (true: at start-up)
    keep_alive_timeout_s: float = 75  # an idle connection (or one still sending its headers) is dropped
    read_timeout_s: float = 120  # a request body that stalls this long between two reads gets a 408
    allowed_fetch_hosts: str = ""  # comma-separated hosts that URL-fetching tools may reach (tests)
    sandbox: bool = True  # external programs in bubblewrap, image workers under Landlock (false: UNSAFE)
    sandbox_memory_mb: int = 4096  # memory (RLIMIT_DATA) of each sandboxed program and confined worker
    sandbox_file_mb: int = 16384  # largest file a sandboxed program may write
    # ---- several nodes (README: Several nodes); used only when the queue is on (PostgreSQL) ----
    storage_root: Path | None = None  # workspace/ and files/ (shared by every node); default DATA_DIR
    job_queue: str = "auto"  # auto: the PostgreSQL queue when DATABASE_URL is PostgreSQL; off: never
    role: str = "all"  # all | web (takes requests, runs no jobs) | worker (runs queued jobs)
    capacities: str = ""  # per family, e.g. "image=4,media=1,vision=0"; unnamed families get CONCURRENT_JOBS
    node_name: str = ""  # shown in admin health; default <hostname>:<port>
    lease_s: float = 30  # a claimed job whose node stops heartbeating is given to another node after this
    heartbeat_s: float = 5

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'lutra.db').resolve()}"

    @property
    def clustered(self) -> bool:
        """Jobs go through the PostgreSQL queue (several nodes may share it)."""
        if self.job_queue == "off":
            return False
        return self.db_url.startswith(("postgresql", "postgres:"))

    @property
    def storage(self) -> Path:
        return self.storage_root or self.data_dir

    def family_capacity(self, family: str) -> int:
        """Jobs of `family` this node runs at once: 0 on a web node, CAPACITIES' value, else CONCURRENT_JOBS."""
        if self.role == "web":
            return 0
        for part in self.capacities.split(","):
            name, _, value = part.partition("=")
            if name.strip() == family:
                return int(value)
        return self.workers

    @property
    def workers(self) -> int:
        if self.concurrent_jobs > 0:
            return self.concurrent_jobs
        return max(2, (os.cpu_count() or 2) - 1)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_size_mb * 1024 * 1024)

    @property
    def workspace(self) -> Path:
        return self.storage / "workspace"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Config:
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            kind = f.type if isinstance(f.type, str) else f.type.__name__
            try:
                if kind == "bool":
                    values[f.name] = _bool(raw)
                elif kind == "int":
                    values[f.name] = int(raw)
                elif kind == "float":
                    values[f.name] = float(raw)
                elif kind in ("Path", "Path | None"):
                    values[f.name] = Path(raw)
                else:
                    values[f.name] = raw
            except ValueError as err:
                raise SystemExit(f"invalid value for {f.name.upper()}: {raw!r} ({err})") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)
        config.check()
        # libvips in worker processes: one thread each (inherited by spawned workers)
        os.environ.setdefault("VIPS_CONCURRENCY", "1")
        return config


    def check(self) -> None:
        """Values that parse but mean nothing: refused at start-up, naming the variable."""
        if self.role not in ("all", "web", "worker"):
            raise SystemExit(f"invalid value for ROLE: {self.role!r} (all, web or worker)")
        if self.job_queue not in ("auto", "off"):
            raise SystemExit(f"invalid value for JOB_QUEUE: {self.job_queue!r} (auto or off)")
        for part in filter(None, (p.strip() for p in self.capacities.split(","))):
            name, eq, value = part.partition("=")
            if not eq or not name.strip() or not value.strip().isdigit():
                raise SystemExit(f"invalid value for CAPACITIES: {part!r} (family=count, e.g. image=4)")
        if self.role != "all" and not self.clustered:
            raise SystemExit("ROLE=web or worker needs the shared job queue: DATABASE_URL=postgresql://...")


def client_defaults(env: dict[str, str] | None = None) -> tuple[str | None, str | None]:
    """The command-line client's server URL and API key from LUTRA_URL / LUTRA_API_KEY."""
    env = os.environ if env is None else env
    return env.get("LUTRA_URL") or None, env.get("LUTRA_API_KEY") or None
