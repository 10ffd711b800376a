"""Runtime settings (the Settings API's key/value store), cached in memory, written through the store."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from actors.store.repos import settings as stored_settings

DEFAULTS: dict[str, Any] = {
    "disabledTools": [],
    "enableExperimentalTools": False,
    "loginAttemptLimit": 10,
    "auditToolOperations": False,
    "brandName": "Lutra",  # the web app's name in its header and on the sign-in page
    "brandLogo": "",  # a data: URL of a PNG/JPEG/WebP/GIF logo, or "" for none
}


class RuntimeSettings:
    def __init__(self, store) -> None:
        self.store = store
        self.values: dict[str, Any] = dict(DEFAULTS)
        # several nodes: run inside the changing transaction to tell the others (service.cluster)
        self.on_change: Callable[[Any], None] | None = None

    async def load(self) -> None:
        self.values.update(await self.store.call(stored_settings.all_values))

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, DEFAULTS.get(key, default))

    def disabled_tools(self) -> set[str]:
        value = self.get("disabledTools") or []
        return set(value) if isinstance(value, list) else set()

    async def put(self, updates: dict[str, Any], user_id: str | None) -> None:
        now = time.time()

        def write(conn) -> None:
            stored_settings.put(conn, updates, user_id, now)
            if self.on_change is not None:
                self.on_change(conn)

        await self.store.call(write)
        self.values.update(updates)
