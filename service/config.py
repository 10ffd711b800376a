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

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'lutra.db').resolve()}"

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
        return self.data_dir / "workspace"

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
                elif kind == "Path":
                    values[f.name] = Path(raw)
                else:
                    values[f.name] = raw
            except ValueError as err:
                raise SystemExit(f"invalid value for {f.name.upper()}: {raw!r} ({err})") from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        config = cls(**values)
        # libvips in worker processes: one thread each (inherited by spawned workers)
        os.environ.setdefault("VIPS_CONCURRENCY", "1")
        return config



def client_defaults(env: dict[str, str] | None = None) -> tuple[str | None, str | None]:
    """The command-line client's server URL and API key from LUTRA_URL / LUTRA_API_KEY."""
    env = os.environ if env is None else env
    return env.get("LUTRA_URL") or None, env.get("LUTRA_API_KEY") or None
