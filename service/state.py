"""The services one app holds, reachable from routes as `current_app.lutra`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from actors.store.actor import StoreActor
from actors.supervisor import Supervisor
from service.auth import Authenticator
from service.config import Config
from service.jobs import JobManager
from service.runtime_settings import RuntimeSettings


@dataclass
class Services:
    config: Config
    store: StoreActor
    supervisor: Supervisor
    jobs: JobManager
    auth: Authenticator
    settings: RuntimeSettings
    started_at: float = field(default_factory=time.time)
    cluster: Any = None  # service.cluster.ClusterNode when jobs go through the PostgreSQL queue
